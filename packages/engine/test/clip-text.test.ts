/** The SD1.x CLIP text encoder against the genuine transformers 4.19 CLIPTextModel outputs (tiny-sd15). */
import { test } from 'node:test';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildCLIPTextGraph } from '../src/models/clip-text.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('tiny-sd15', 'reference.safetensors');

async function encode(modelFile: string, ids: number[]) {
  const file = SafetensorsFile.open(fixturePath('tiny-sd15', modelFile));
  const session = await compileGraph(buildCLIPTextGraph(TINY_SD15.text_encoders[0]), file);
  const out = await session.run({ input_ids: { int64: BigInt64Array.from(ids.map(BigInt)), shape: [ids.length / 77, 77] } });
  return out;
}

test('CLIP text: last_hidden_state (clip skip 1) and penultimate + final LN (clip skip 2), 4 prompts', { skip }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sd15', 'reference.safetensors'));
  const ids = ref.readIntegers('text.input_ids');
  const out = await encode('model.safetensors', ids);
  const per = 4 * 77 * 32;
  const layers = out.hidden_states_ln.shape[0] - 1; // 3 encoder layers
  const last = out.hidden_states_ln.data.subarray(layers * per, (layers + 1) * per);
  const penultimate = out.hidden_states_ln.data.subarray((layers - 1) * per, layers * per);
  assertCloseTensor(last, ref.readFloat32('text.last_hidden_state'), { atol: 1e-4, label: 'clip skip 1' });
  assertCloseTensor(penultimate, ref.readFloat32('text.penultimate_final_ln'), { atol: 1e-4, label: 'clip skip 2' });
  for (let i = 0; i <= layers; i++) {
    const raw = out.hidden_states.data.subarray(i * per, (i + 1) * per);
    assertCloseTensor(raw, ref.readFloat32(`text.hidden_states.${i}`), { atol: 1e-4, label: `hidden_states.${i}` });
  }
});

test('CLIP text from fp16 weights computes like the fp16-rounded reference', { skip }, async () => {
  const ref = SafetensorsFile.open(fixturePath('tiny-sd15', 'reference.safetensors'));
  const ids = ref.readIntegers('text.input_ids').slice(0, 77);
  const out = await encode('model.fp16.safetensors', ids);
  const per = 77 * 32;
  const layers = out.hidden_states_ln.shape[0] - 1;
  assertCloseTensor(out.hidden_states_ln.data.subarray(layers * per), ref.readFloat32('fp16w.text.last_hidden_state'), { atol: 1e-4, label: 'fp16 weights, clip skip 1' });
});
