/**
 * LoRA / LyCORIS merging against A1111 v1.10.1's own Lora extension (fixtures/lora): the key-mapping table, the
 * per-module rank and scale A1111 used, and every merged weight of every case (kohya LoRA, LoCon, LoHa with
 * Tucker cores, LoKr in all factor forms, lora_A/lora_B, unmatched/wrong-shaped modules, a stack of two).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import type { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildTextEncoderGraph } from '../src/models/clip-text.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { buildLayerIndex, type LayerIndex, matchModule } from '../src/networks/key-mapping.ts';
import { jsMatMul } from '../src/networks/lyco-math.ts';
import { type ActiveNetwork, mergeNetworks } from '../src/networks/merge.ts';
import { type NetworkFile, readNetworkFile } from '../src/networks/network-file.ts';
import { calcScale, calcUpdown } from '../src/networks/updown.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture, openFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('lora', 'expected.safetensors') || needFixture('tiny-sd15', 'model.safetensors');

interface CaseModule {
  network: string;
  network_module: string;
  a1111_layer: string;
  ldm_key: string;
  dim: number | null;
  scale: number;
  multiplier: number;
}
interface Case {
  activate_args: { names: string[]; te_multipliers: number[]; unet_multipliers: number[] };
  modules: CaseModule[];
  merged_keys: string[];
}
interface Index {
  key_mapping: { network_module: string; a1111_layer: string | null; ldm_key: string | null }[];
  cases: Record<string, Case>;
}

let index: Index;
let expected: SafetensorsFile;
let checkpoint: SafetensorsFile;
let layers: LayerIndex;
const files = new Map<string, NetworkFile>();

const network = (name: string) => {
  let file = files.get(name);
  if (!file) files.set(name, (file = readNetworkFile(fixturePath('lora', `${name}.safetensors`))));
  return file;
};

before(() => {
  if (skip) return;
  index = JSON.parse(readFileSync(fixturePath('lora', 'index.json'), 'utf8'));
  expected = openFixture('lora', 'expected.safetensors');
  checkpoint = openFixture('tiny-sd15', 'model.safetensors');
  const graphs = [buildUNetGraph(TINY_SD15.unet), buildTextEncoderGraph(TINY_SD15.text_encoders[0])];
  layers = buildLayerIndex(
    TINY_SD15,
    graphs.flatMap((g) => [...g.params.values()]),
  );
});

test('every module of the six files maps to the layer A1111 patched (or to none, as A1111)', { skip }, () => {
  for (const entry of index.key_mapping) {
    const module = entry.network_module.split('.')[0]; // A1111 splits at the first '.': PEFT names become 'unet'
    const match = matchModule(module, layers, false);
    assert.equal(match?.target.key ?? null, entry.ldm_key, entry.network_module);
    if (match) assert.equal(match.sdKey, entry.a1111_layer, entry.network_module);
  }
  console.log(`# ${index.key_mapping.length} modules mapped as A1111 v1.10.1 did`);
});

test("rank and scale per module are A1111's (lora_A/lora_B drop alpha; a fully stored LoKr ignores it)", { skip }, async () => {
  for (const [name, c] of Object.entries(index.cases)) {
    for (const m of c.modules) {
      const module = network(m.network).modules.get(m.network_module);
      assert.ok(module, `${name}: ${m.network_module}`);
      const target = layers.get(m.a1111_layer);
      assert.ok(target, m.a1111_layer);
      const { dim } = await calcUpdown(module, target.dims, null, jsMatMul);
      assert.equal(dim, m.dim, `${name}: ${m.network_module} dim`);
      assert.equal(calcScale(module, dim), m.scale, `${name}: ${m.network_module} scale`);
    }
  }
});

function activeNetworks(c: Case): ActiveNetwork[] {
  const { names, te_multipliers: te, unet_multipliers: unet } = c.activate_args;
  return names.map((name, i) => ({ name, file: network(name), te: te[i], unet: unet[i], dyn: null }));
}

for (const name of ['lora_kohya', 'locon_kohya', 'loha', 'lokr', 'lora_diffusers', 'lora_unmatched', 'stack_kohya_loha']) {
  test(`merged weights of case ${name} match A1111's within 1e-6 × max|W| per key`, { skip }, async () => {
    const c = index.cases[name];
    const base = (key: string) => new Tensor(checkpoint.info(key).shape, checkpoint.readFloat32(key));
    const result = await mergeNetworks(activeNetworks(c), { index: layers, isSd2: false, baseWeight: base, matmul: jsMatMul });
    const prefix = `${name}.merged.`;
    const want = expected
      .keys()
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
    assert.deepEqual([...result.weights.keys()].sort(), want, 'the set of changed weights');
    let worst = 0;
    for (const key of want) {
      const ref = expected.readFloat32(prefix + key);
      const scale = Math.max(...ref.map(Math.abs));
      const err = assertCloseTensor((result.weights.get(key) as Tensor).data, ref, {
        atol: 1e-6 * scale,
        label: `${name} ${key.replace(/^(cond_stage_model\.transformer\.text_model|model\.diffusion_model)\./, '')}`,
      });
      worst = Math.max(worst, err / scale);
    }
    console.log(`# ${name}: ${want.length} merged weights, worst max abs error ${worst.toExponential(2)} × max|W|`);
  });
}

test('lora_unmatched: 4 modules reported unmatched, the wrong-shaped one counted as an error, the rest applied', { skip }, async () => {
  const c = index.cases.lora_unmatched;
  const base = (key: string) => new Tensor(checkpoint.info(key).shape, checkpoint.readFloat32(key));
  const result = await mergeNetworks(activeNetworks(c), { index: layers, isSd2: false, baseWeight: base, matmul: jsMatMul });
  assert.deepEqual([...result.errors], [['lora_unmatched', 1]]);
  const unmatched = result.warnings.find((w) => w.includes('matched no layer'));
  assert.ok(unmatched, result.warnings.join('\n'));
  for (const m of [
    'lora_te_text_model_encoder_layers_7_self_attn_q_proj',
    'lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q',
    'lora_unet_up_blocks_0_upsamplers_0_conv',
    'unet',
  ]) {
    assert.match(unmatched, new RegExp(`\\b${m}\\b`));
  }
  const failed = result.warnings.find((w) => w.includes('diffusion_model_output_blocks_3_0_in_layers_2'));
  assert.match(failed ?? '', /size of tensor a \(128\) must match the size of tensor b \(192\) at non-singleton dimension 1/);
  console.log(`# warnings:\n#   ${result.warnings.join('\n#   ')}`);
});
