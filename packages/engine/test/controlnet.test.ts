/**
 * The ControlNet graph and the controlled UNet against lllyasviel's cldm.py ControlNet / ControlledUnetModel
 * (fixtures/controlnet/reference.safetensors): every residual, the guided hint, UNet outputs with control at two
 * weights, soft injection, and the CFG batch in all three control modes and with two units summed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { detectControlNet } from '../src/checkpoint/detect-controlnet.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { ControlNet } from '../src/models/controlnet.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { Graph } from '../src/onnx/graph.ts';
import { addResiduals, type ControlMode, controlScales, scaleResiduals } from '../src/pipeline/control.ts';
import { ControlNetModel } from '../src/pipeline/controlnet-model.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { OrtSession } from '../src/runtime/ort.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('controlnet', 'reference.safetensors') || needFixture('tiny-sd15', 'reference.safetensors');
let ref: SafetensorsFile;
let sdRef: SafetensorsFile;
let controlnet: ControlNetModel;
let unet: OrtSession;
let controlled: OrtSession;

const read = (file: SafetensorsFile, key: string) => new Tensor(file.info(key).shape, file.readFloat32(key));
const r = (key: string) => read(ref, key);
const maxAbs = (t: Tensor) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** Fixture README: fp32 re-implementation within ~1e-4 × max |value|. */
const check = (actual: Tensor, expected: Tensor, label: string) => {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  assertCloseTensor(actual.data, expected.data, { atol: 1e-4 * maxAbs(expected), label });
};

before(async () => {
  if (skip) return;
  ref = SafetensorsFile.open(fixturePath('controlnet', 'reference.safetensors'));
  sdRef = SafetensorsFile.open(fixturePath('tiny-sd15', 'reference.safetensors'));
  controlnet = ControlNetModel.open(fixturePath('controlnet', 'tiny-controlnet.safetensors'));
  const model = SafetensorsFile.open(fixturePath('tiny-sd15', 'model.safetensors'));
  unet = await compileGraph(buildUNetGraph(TINY_SD15.unet), model);
  controlled = await compileGraph(buildUNetGraph(TINY_SD15.unet, { control: true }), model);
});

const runUnet = async (session: OrtSession, x: Tensor, t: number[], context: Tensor, control: Tensor[] | null) => {
  const feeds: Record<string, Tensor> = { x, timesteps: new Tensor([t.length], Float32Array.from(t)), context };
  control?.forEach((c, i) => {
    feeds[`control_${i}`] = c;
  });
  return (await session.run(feeds)).out;
};

test('the tiny ControlNet architecture is inferred from shapes (5 residuals, hint 3 channels, 2 heads)', { skip }, () => {
  const { config } = detectControlNet(SafetensorsFile.open(fixturePath('controlnet', 'tiny-controlnet.safetensors')));
  assert.deepEqual(config.unet, { ...TINY_SD15.unet, transformer_depth: [0, 1] });
  assert.equal(config.hint_channels, 3);
  assert.equal(config.global_average_pooling, false);
  assert.equal(controlnet.residualCount, 5);
});

test('input_hint_block(hint) matches guided_hint', { skip }, async () => {
  const graph = new Graph('hint');
  const model = new ControlNet(controlnet.config).bindNames('');
  graph.output(model.input_hint_block.forward(graph.input('hint', [1, 3, 64, 64])), 'out');
  const file = SafetensorsFile.open(fixturePath('controlnet', 'tiny-controlnet.safetensors'));
  const session = await compileGraph(graph, file, { keyOf: detectControlNet(file).keyOf });
  check((await session.run({ hint: r('hint.image') })).out, r('guided_hint'), 'guided_hint');
});

test('every ControlNet residual matches cldm.py', { skip }, async () => {
  const residuals = await controlnet.run(r('in.x'), r('hint.image'), [500], r('in.context'), null);
  assert.equal(residuals.length, 5);
  for (const [i, res] of residuals.entries()) check(res, r(`control.${i}`), `control.${i}`);
});

test('the controlled UNet: no control, weight 1.0 / 0.6, soft injection, middle only', { skip }, async () => {
  const residuals = await controlnet.run(r('in.x'), r('hint.image'), [500], r('in.context'), null);
  const zeros = residuals.map((c) => Tensor.zeros(c.shape));
  check(await runUnet(unet, r('in.x'), [500], r('in.context'), null), r('unet.out.no_control'), 'plain UNet');
  check(await runUnet(controlled, r('in.x'), [500], r('in.context'), zeros), r('unet.out.no_control'), 'controlled UNet, zero residuals');
  for (const [w, key] of [
    [1, 'weight_1_0'],
    [0.6, 'weight_0_6'],
  ] as const) {
    const scaled = scaleResiduals(residuals, controlScales({ weight: w, controlMode: 'Balanced' }, 5), { condRows: 1, condOnly: false });
    check(await runUnet(controlled, r('in.x'), [500], r('in.context'), scaled), r(`unet.out.${key}`), `weight ${w}`);
  }
  const soft = controlScales({ weight: 1, controlMode: 'My prompt is more important' }, 5);
  assertCloseTensor(soft, r('soft_scales.weight_1_0').data, { atol: 1e-6, label: 'soft scales' });
  check(
    await runUnet(controlled, r('in.x'), [500], r('in.context'), scaleResiduals(residuals, soft, { condRows: 1, condOnly: false })),
    r('unet.out.soft_weight_1_0'),
    'soft injection',
  );
  check(await runUnet(controlled, r('in.x'), [500], r('in.context'), [...zeros.slice(0, 4), residuals[4]]), r('unet.out.mid_only_weight_1_0'), 'middle only');
});

/** The CFG batch A1111 builds: [cond; uncond] rows, uncond context = the empty prompt (tiny-sd15 row 3). */
async function cfgBatch(units: { hint: Tensor; weight: number; mode: ControlMode }[]): Promise<Tensor> {
  const x = Tensor.cat([r('in.x'), r('in.x')]);
  const text = read(sdRef, 'text.last_hidden_state');
  const context = new Tensor([2, 77, 32], Float32Array.from([...r('in.context').data, ...text.data.subarray(3 * 77 * 32, 4 * 77 * 32)]));
  let total: Tensor[] | null = null;
  for (const unit of units) {
    const raw = await controlnet.run(x, unit.hint, [500, 500], context, null);
    const scales = controlScales({ weight: unit.weight, controlMode: unit.mode }, raw.length);
    total = addResiduals(total, scaleResiduals(raw, scales, { condRows: 1, condOnly: unit.mode === 'ControlNet is more important' }));
  }
  return runUnet(total ? controlled : unet, x, [500, 500], context, total);
}

test('CFG batch in the three control modes and with two units summed', { skip }, async () => {
  const hint = r('hint.image');
  check(await cfgBatch([]), r('cfg.out.no_control'), 'cfg no control');
  check(await cfgBatch([{ hint, weight: 1, mode: 'Balanced' }]), r('cfg.out.balanced_w1_0'), 'cfg Balanced');
  check(await cfgBatch([{ hint, weight: 1, mode: 'My prompt is more important' }]), r('cfg.out.my_prompt_w1_0'), 'cfg My prompt');
  const important = await cfgBatch([{ hint, weight: 1, mode: 'ControlNet is more important' }]);
  check(important, r('cfg.out.controlnet_w1_0'), 'cfg ControlNet is more important');
  assertCloseTensor(important.get(1).data, r('cfg.out.no_control').get(1).data, { atol: 1e-5, label: 'uncond row untouched' });
  const inverted = hint.map((v) => Math.fround((255 - Math.round(v * 255)) / 255));
  check(
    await cfgBatch([
      { hint, weight: 1, mode: 'Balanced' },
      { hint: inverted, weight: 0.5, mode: 'Balanced' },
    ]),
    r('cfg.out.two_units'),
    'cfg two units',
  );
});

/** ldm → diffusers names for the tiny layout (written out independently of detect-controlnet.ts's inverse). */
function toDiffusers(name: string): string {
  const resnet: Record<string, string> = {
    'in_layers.0': 'norm1',
    'in_layers.2': 'conv1',
    'emb_layers.1': 'time_emb_proj',
    'out_layers.0': 'norm2',
    'out_layers.3': 'conv2',
    skip_connection: 'conv_shortcut',
  };
  const res = (rest: string) => {
    const [part, param] = [rest.slice(0, rest.lastIndexOf('.')), rest.slice(rest.lastIndexOf('.') + 1)];
    return `${resnet[part]}.${param}`;
  };
  const blocks: [RegExp, (m: RegExpExecArray) => string][] = [
    [/^input_blocks\.0\.0\.(.+)$/, (m) => `conv_in.${m[1]}`],
    [/^input_blocks\.1\.0\.(.+)$/, (m) => `down_blocks.0.resnets.0.${res(m[1])}`],
    [/^input_blocks\.2\.0\.op\.(.+)$/, (m) => `down_blocks.0.downsamplers.0.conv.${m[1]}`],
    [/^input_blocks\.3\.0\.(.+)$/, (m) => `down_blocks.1.resnets.0.${res(m[1])}`],
    [/^input_blocks\.3\.1\.(.+)$/, (m) => `down_blocks.1.attentions.0.${m[1]}`],
    [/^middle_block\.1\.(.+)$/, (m) => `mid_block.attentions.0.${m[1]}`],
    [/^middle_block\.([02])\.(.+)$/, (m) => `mid_block.resnets.${Number(m[1]) / 2}.${res(m[2])}`],
    [/^time_embed\.([02])\.(.+)$/, (m) => `time_embedding.linear_${Number(m[1]) / 2 + 1}.${m[2]}`],
    [/^input_hint_block\.0\.(.+)$/, (m) => `controlnet_cond_embedding.conv_in.${m[1]}`],
    [/^input_hint_block\.14\.(.+)$/, (m) => `controlnet_cond_embedding.conv_out.${m[1]}`],
    [/^input_hint_block\.(\d+)\.(.+)$/, (m) => `controlnet_cond_embedding.blocks.${Number(m[1]) / 2 - 1}.${m[2]}`],
    [/^zero_convs\.(\d+)\.0\.(.+)$/, (m) => `controlnet_down_blocks.${m[1]}.${m[2]}`],
    [/^middle_block_out\.0\.(.+)$/, (m) => `controlnet_mid_block.${m[1]}`],
  ];
  for (const [re, to] of blocks) {
    const m = re.exec(name);
    if (m) return to(m);
  }
  throw new Error(`no diffusers name for ${name}`);
}

test('the same ControlNet in the diffusers layout loads and gives the same residuals', { skip }, async () => {
  const { writeSafetensors, float32Bytes } = await import('../src/checkpoint/safetensors.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const src = SafetensorsFile.open(fixturePath('controlnet', 'tiny-controlnet.safetensors'));
  const tensors = new Map(
    src
      .keys()
      .map((k) => [toDiffusers(k.replace('control_model.', '')), { dtype: 'F32' as const, shape: src.info(k).shape, data: float32Bytes(src.readFloat32(k)) }]),
  );
  const path = join(mkdtempSync(join(tmpdir(), 'sdapi-cn-diffusers-')), 'diffusion_pytorch_model.safetensors');
  writeSafetensors(path, tensors);
  const model = ControlNetModel.open(path);
  assert.equal(model.config.layout, 'diffusers');
  assert.deepEqual(model.config.unet, controlnet.config.unet);
  const residuals = await model.run(r('in.x'), r('hint.image'), [500], r('in.context'), null);
  for (const [i, res] of residuals.entries()) check(res, r(`control.${i}`), `diffusers control.${i}`);
});

test('other control-model types are refused by name', { skip }, async () => {
  const { shapeIndex } = await import('../src/checkpoint/tensor-index.ts');
  assert.throws(() => detectControlNet(shapeIndex({ lora_controlnet: [1], 'input_blocks.0.0.weight': [320, 4, 3, 3] })), /Control-LoRA is not supported/);
  assert.throws(() => detectControlNet(shapeIndex({ 'adapter.conv_in.weight': [320, 192, 3, 3] })), /T2I-Adapter is not supported/);
  assert.throws(() => detectControlNet(shapeIndex({ 'image_proj.proj.weight': [1, 1], 'ip_adapter.1.to_k_ip.weight': [1, 1] })), /IP-Adapter is not supported/);
  assert.throws(() => detectControlNet(shapeIndex({ 'something.else': [1] })), /Cannot recognize the ControlModel/);
});
