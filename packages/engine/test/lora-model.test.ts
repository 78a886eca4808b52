/**
 * LoRA / LyCORIS through a loaded model (fixtures/lora): prompt tags resolved by the catalog, merged weights fed
 * to the existing CLIP and UNet sessions, outputs compared with A1111's (clip skip 1 and 2, UNet with the fixed
 * LoRA-free context and with its own), the tag forms of the README, and the base outputs restored bit for bit.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { LoraCatalog } from '../src/networks/lora-catalog.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { activateNetworks } from '../src/pipeline/networks.ts';
import { DEFAULT_GENERATION_OPTIONS } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { parseExtraNetworks } from '../src/text/extra-networks.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';

const skip = needFixture('lora', 'expected.safetensors') || needFixture('tiny-sd15', 'model.safetensors');
const LORA_FILES = ['lora_kohya', 'locon_kohya', 'loha', 'lokr', 'lora_diffusers', 'lora_unmatched'];
const PROMPT = 'a photograph of an astronaut riding a horse';

let model: LoadedModel;
let expected: SafetensorsFile;
let ids: number[];

before(() => {
  if (skip) return;
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-lora-'));
  for (const name of LORA_FILES) copyFileSync(fixturePath('lora', `${name}.safetensors`), join(dir, `${name}.safetensors`));
  model = LoadedModel.open(fixturePath('tiny-sd15', 'model.safetensors'));
  model.loras = new LoraCatalog({ dirs: [dir] });
  expected = openFixture('lora', 'expected.safetensors');
  ids = expected.readIntegers('inputs.text.input_ids');
});

after(() => model?.release());

const read = (key: string) => new Tensor(expected.info(key).shape, expected.readFloat32(key));

/** Activates the tags of `prompt` (the text itself is fixed: the README's ids are the same with or without tags). */
const activate = (prompt: string) => activateNetworks(model, parseExtraNetworks(prompt).networks, DEFAULT_GENERATION_OPTIONS);

async function outputs(context?: Tensor) {
  const text = await model.encodeText(0, [ids]);
  const layers = text.hiddenStates.shape[0] - 1;
  const last = text.hiddenStatesLn.get(layers).clone(); // clip skip 1: final_layer_norm(hidden_states[-1])
  const penultimate = text.hiddenStatesLn.get(layers - 1).clone(); // clip skip 2
  const x = read('inputs.unet.x');
  const unet = await model.unet(x, [500], context ?? read('inputs.unet.context'));
  const own = await model.unet(x, [500], last.reshape([1, 77, last.shape[2]]));
  return { last, penultimate, unet, own };
}

/** README tolerance: 1e-4 × max|v| for CLIP and UNet outputs. */
function check(actual: Tensor, key: string) {
  const ref = read(key);
  const scale = Math.max(...ref.data.map(Math.abs));
  assertCloseTensor(actual.data, ref.data, { atol: 1e-4 * scale, label: key });
}

const CASES: [string, string][] = [
  ['lora_kohya', '<lora:lora_kohya:0.8:0.6>'],
  ['locon_kohya', '<lora:locon_kohya:0.8:0.6>'],
  ['loha', '<lora:loha:0.8:0.6>'],
  ['lokr', '<lora:lokr:0.8:0.6>'],
  ['lora_diffusers', '<lora:lora_diffusers:0.8:0.6>'],
  ['lora_unmatched', '<lora:lora_unmatched:0.8:0.6>'],
  ['stack_kohya_loha', '<lora:lora_kohya:0.8> <lora:loha:0.5>'],
];

test('without networks the model computes the base outputs', { skip }, async () => {
  const { warnings } = await activate(PROMPT);
  assert.deepEqual(warnings, []);
  const out = await outputs();
  check(out.last, 'base.text.last_hidden_state');
  check(out.penultimate, 'base.text.penultimate_final_ln');
  check(out.unet, 'base.unet.out');
  check(out.own, 'base.unet.out_own_context');
});

for (const [name, tags] of CASES) {
  test(`${name}: CLIP (clip skip 1, 2) and UNet (fixed and own context) outputs match A1111's`, { skip }, async () => {
    const { extraGenerationParams } = await activate(`${PROMPT} ${tags}`);
    assert.match(String(extraGenerationParams['Lora hashes']), /^[\w]+: [0-9a-f]{12}(, [\w]+: [0-9a-f]{12})*$/);
    const out = await outputs();
    check(out.last, `${name}.text.last_hidden_state`);
    check(out.penultimate, `${name}.text.penultimate_final_ln`);
    check(out.unet, `${name}.unet.out`);
    check(out.own, `${name}.unet.out_own_context`);
  });
}

test('the README tag forms: named te/unet, the ss_output_name alias, <lyco:…>; an unknown name is noted and skipped', { skip }, async () => {
  for (const tags of ['<lora:lora_kohya:unet=0.6:te=0.8>', '<lora:tinyKohyaLora_v1:0.8:0.6>', '<lyco:lora_kohya:0.8:0.6>']) {
    const { warnings } = await activate(`${PROMPT} ${tags}`);
    assert.deepEqual(warnings, [], tags);
    assert.equal(model.networks.patchesSpatialConvs, false, 'attention-only LoRA: the default UNet session');
    check((await outputs()).own, 'lora_kohya.unet.out_own_context');
  }
  const { warnings, extraGenerationParams } = await activate(`${PROMPT} <lora:no_such_lora:1>`);
  assert.deepEqual(warnings, ['Lora not found: no_such_lora']);
  assert.deepEqual(extraGenerationParams, {});
  check((await outputs()).own, 'base.unet.out_own_context');
});

test('after a network the checkpoint weights come back bit for bit, and the same network again gives the same outputs', { skip }, async () => {
  await activate(PROMPT);
  const before = await outputs();
  assert.equal(model.networks.patchesSpatialConvs, false);
  await activate(`${PROMPT} <lora:locon_kohya:0.8:0.6>`);
  assert.equal(model.networks.patchesSpatialConvs, true, 'LoCon patches 3×3 convs: the UNet runs its +spatial variant');
  const first = await outputs();
  await activate(PROMPT);
  assert.equal(model.networks.patchesSpatialConvs, false);
  const restored = await outputs();
  await activate(`${PROMPT} <lora:locon_kohya:0.8:0.6>`);
  const again = await outputs();
  for (const k of ['last', 'penultimate', 'unet', 'own'] as const) {
    assert.deepEqual(restored[k].data, before[k].data, `${k} restored bit for bit`);
    assert.deepEqual(again[k].data, first[k].data, `${k} with the network again`);
    assert.notDeepEqual(first[k].data, before[k].data, `${k} changed by the network`);
  }
});

test('the infotext hash is the addnet hash of the file (index.json)', { skip }, async () => {
  const { extraGenerationParams } = await activate(`${PROMPT} <lora:lora_kohya:0.8> <lora:loha:0.5>`);
  assert.equal(model.networks.patchesSpatialConvs, true, 'LoHa patches 3×3 convs');
  assert.equal(extraGenerationParams['Lora hashes'], 'lora_kohya: b233a8628c02, loha: 24e155479ebd');
});
