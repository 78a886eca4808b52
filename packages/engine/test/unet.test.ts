/** The SD1.x UNet against the genuine ldm UNetModel outputs (tiny-sd15): timesteps, CFG batch, long context, fp16 weights. */
import { before, test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { OrtSession } from '../src/runtime/ort.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('tiny-sd15', 'reference.safetensors');
let ref: SafetensorsFile;
let unet: OrtSession;
let unetFp16: OrtSession;

const read = (key: string) => new Tensor(ref.info(key).shape, ref.readFloat32(key));

before(async () => {
  if (skip) return;
  ref = SafetensorsFile.open(fixturePath('tiny-sd15', 'reference.safetensors'));
  const graph = buildUNetGraph(TINY_SD15.unet);
  unet = await compileGraph(graph, SafetensorsFile.open(fixturePath('tiny-sd15', 'model.safetensors')));
  unetFp16 = await compileGraph(graph, SafetensorsFile.open(fixturePath('tiny-sd15', 'model.fp16.safetensors')));
});

/** Reference tolerance: ~1e-4 of the output's magnitude (fixture README), float32 on ORT CPU. */
async function check(session: OrtSession, x: Tensor, timesteps: Tensor, context: Tensor, expected: Tensor, label: string) {
  const { out } = await session.run({ x, timesteps, context });
  const scale = Math.max(...expected.data.map(Math.abs));
  assertCloseTensor(out.data, expected.data, { atol: 1e-4 * scale, label });
}

const prompt0 = () => new Tensor([1, 77, 32], read('text.last_hidden_state').data.slice(0, 77 * 32));

for (const t of ['t999', 't500', 't1', 't123_456']) {
  test(`UNet eps at ${t}`, { skip }, async () => {
    await check(unet, read('unet.x'), read(`unet.${t}.timesteps`), prompt0(), read(`unet.${t}.out`), `unet ${t}`);
  });
}

for (const name of ['cfg_t999', 'cfg_t500', 'batch2_mixed']) {
  test(`UNet batch of two: ${name}`, { skip }, async () => {
    const p = `unet.${name}`;
    await check(unet, read(`${p}.x`), read(`${p}.timesteps`), read(`${p}.context`), read(`${p}.out`), name);
  });
}

test('UNet with a 154-token context (two 75-token chunks)', { skip }, async () => {
  await check(unet, read('unet.x'), new Tensor([1], new Float32Array([500])), read('unet.long_context.context'), read('unet.long_context.out'), 'long context');
});

test('UNet from fp16 weights computes like the fp16-rounded reference', { skip }, async () => {
  await check(unetFp16, read('unet.x'), new Tensor([1], new Float32Array([500])), prompt0(), read('fp16w.unet.t500.out'), 'fp16 weights t500');
});
