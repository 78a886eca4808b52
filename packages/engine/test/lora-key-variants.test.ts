/**
 * SD2 and SDXL LoRA key variants (A1111 v1.10.1 behaviour as fixtures/lora/README.md describes it; the fixtures
 * themselves are SD1-only, so these check the mapping rules on the tiny SD2/SDXL graphs with synthetic modules):
 * `lora_te1_` (SDXL CLIP-L through the fallback), `lora_te2_` / SD2 `lora_te_` (OpenCLIP names, q/k/v into the
 * fused in_proj of torch MultiheadAttention, patched only with all four of q, k, v, out_proj), compvis-named UNet
 * keys, and which multiplier a layer takes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelConfig } from '../src/checkpoint/config.ts';
import { buildTextEncoderGraph } from '../src/models/clip-text.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { buildLayerIndex, type LayerIndex, matchModule, usesTextEncoderMultiplier } from '../src/networks/key-mapping.ts';
import { jsMatMul } from '../src/networks/lyco-math.ts';
import { mergeNetworks } from '../src/networks/merge.ts';
import type { NetworkModuleWeights } from '../src/networks/network-file.ts';
import { Tensor } from '../src/tensor.ts';
import { TINY_SD2V, TINY_SDXL } from './helpers/tiny-configs.ts';

function layersOf(config: ModelConfig): LayerIndex {
  const graphs = [buildUNetGraph(config.unet), ...config.text_encoders.map((t) => buildTextEncoderGraph(t))];
  return buildLayerIndex(
    config,
    graphs.flatMap((g) => [...g.params.values()]),
  );
}

const sdxl = layersOf(TINY_SDXL);
const sd2 = layersOf(TINY_SD2V);

test('SDXL: lora_te1_ reaches CLIP-L by the fallback, lora_te2_ the OpenCLIP tower, lora_te_ nothing', () => {
  const te1 = matchModule('lora_te1_text_model_encoder_layers_0_self_attn_q_proj', sdxl, false);
  assert.equal(te1?.target.key, 'conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight');
  assert.equal(te1?.sdKey, '0_transformer_text_model_encoder_layers_0_self_attn_q_proj');
  const q = matchModule('lora_te2_text_model_encoder_layers_1_self_attn_q_proj', sdxl, false);
  assert.deepEqual(
    [q?.target.kind, q?.target.key, q?.part, q?.sdKey],
    ['mha', 'conditioner.embedders.1.model.transformer.resblocks.1.attn.in_proj_weight', 'q', '1_model_transformer_resblocks_1_attn_q_proj'],
  );
  assert.equal(
    matchModule('lora_te2_text_model_encoder_layers_1_self_attn_out_proj', sdxl, false)?.target.key,
    'conditioner.embedders.1.model.transformer.resblocks.1.attn.out_proj.weight',
  );
  assert.equal(
    matchModule('lora_te2_text_model_encoder_layers_0_mlp_fc1', sdxl, false)?.target.key,
    'conditioner.embedders.1.model.transformer.resblocks.0.mlp.c_fc.weight',
  );
  assert.equal(
    matchModule('lora_te2_text_model_encoder_layers_0_mlp_fc2', sdxl, false)?.target.key,
    'conditioner.embedders.1.model.transformer.resblocks.0.mlp.c_proj.weight',
  );
  assert.equal(matchModule('lora_te_text_model_encoder_layers_0_self_attn_q_proj', sdxl, false), null, 'SDXL has no transformer_text_model_* layer');
});

test('SDXL: compvis-named UNet keys (kohya SDXL) map through lora_unet → diffusion_model; SD1-layout diffusers names keep A1111 formulas', () => {
  const m = matchModule('lora_unet_input_blocks_5_1_transformer_blocks_1_attn1_to_q', sdxl, false);
  assert.equal(m?.target.key, 'model.diffusion_model.input_blocks.5.1.transformer_blocks.1.attn1.to_q.weight');
  assert.equal(
    matchModule('lora_unet_mid_block_attentions_0_transformer_blocks_1_attn2_to_k', sdxl, false)?.target.key,
    'model.diffusion_model.middle_block.1.transformer_blocks.1.attn2.to_k.weight',
  );
  // A1111's SD1.5 formula sends down_blocks_1_attentions_0 to input_blocks_4_1 (1 + 3·1 + 0), which this
  // one-ResBlock-per-level layout does not have (a layout-derived conversion would say input_blocks_3_1): unmatched.
  assert.equal(matchModule('lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q', sdxl, false), null);
});

test('SD2: lora_te_ names take OpenCLIP form (mlp_fc2 → mlp_c_proj, self_attn k → fused in_proj)', () => {
  assert.equal(
    matchModule('lora_te_text_model_encoder_layers_1_mlp_fc2', sd2, true)?.target.key,
    'cond_stage_model.model.transformer.resblocks.1.mlp.c_proj.weight',
  );
  const k = matchModule('lora_te_text_model_encoder_layers_0_self_attn_k_proj', sd2, true);
  assert.deepEqual([k?.target.key, k?.part], ['cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight', 'k']);
  assert.equal(matchModule('lora_te_text_model_encoder_layers_0_self_attn_k_proj', sd2, false), null, 'not SD2: HF names, no such layer');
});

test('text-encoder layers take the TE multiplier (transformer within the first 20 characters), UNet layers the UNet one', () => {
  for (const [layer, te] of [
    ['1_model_transformer_resblocks_0_attn_q_proj', true],
    ['0_transformer_text_model_encoder_layers_0_mlp_fc1', true],
    ['model_transformer_resblocks_3_attn', true],
    ['transformer_text_model_encoder_layers_0_mlp_fc1', true],
    ['diffusion_model_middle_block_1_transformer_blocks_0_attn1_to_q', false],
    ['diffusion_model_input_blocks_1_1_transformer_blocks_0_attn2_to_k', false],
  ] as const) {
    assert.equal(usesTextEncoderMultiplier(layer), te, layer);
  }
});

/** A seeded LoRA module (rank 2, alpha 1 → scale 0.5) for a weight of shape [out, in]. */
function loraModule(name: string, out: number, inDim: number, seed: number): NetworkModuleWeights {
  const values = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(s * 7.3 + i * 1.7) * 0.1));
  const up = new Tensor([out, 2], values(out * 2, seed));
  const down = new Tensor([2, inDim], values(2 * inDim, seed + 0.5));
  return {
    name,
    type: 'lora',
    unsupported: null,
    w: new Map([
      ['lora_up.weight', up],
      ['lora_down.weight', down],
    ]),
    alpha: 1,
    scale: null,
  };
}

/** ΔW = (up @ down) · 0.5 · m in float32, computed directly. */
function expectedDelta(m: NetworkModuleWeights, multiplier: number): Float32Array {
  const up = m.w.get('lora_up.weight') as Tensor;
  const down = m.w.get('lora_down.weight') as Tensor;
  const [out, r] = up.shape;
  const inDim = down.shape[1];
  const d = new Float32Array(out * inDim);
  for (let i = 0; i < out; i++)
    for (let j = 0; j < inDim; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += up.data[i * r + k] * down.data[k * inDim + j];
      d[i * inDim + j] = Math.fround(Math.fround(acc) * 0.5) * Math.fround(multiplier);
    }
  return d;
}

test('OpenCLIP attention: q/k/v deltas stack into in_proj rows [q; k; v], out_proj gets its own; three of four are skipped', async () => {
  const c = 48;
  const prefix = 'lora_te2_text_model_encoder_layers_0_self_attn_';
  const modules = ['q_proj', 'k_proj', 'v_proj', 'out_proj'].map((p, i) => loraModule(`${prefix}${p}`, c, c, i + 1));
  const file = { path: 'synthetic', modules: new Map(modules.map((m) => [m.name, m])), bundledEmbeddings: [] };
  const dims = new Map([...sdxl.values()].map((t) => [t.key, t.dims]));
  const base = (key: string) => new Tensor(dims.get(key) ?? []); // zero weights: the merge is the delta itself
  const ctx = { index: sdxl, isSd2: false, baseWeight: base, matmul: jsMatMul };
  const { weights, warnings } = await mergeNetworks([{ name: 'x', file, te: 0.7, unet: 0.2, dyn: null }], ctx);
  assert.deepEqual(warnings, []);
  const inProj = weights.get('conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight') as Tensor;
  assert.deepEqual(inProj.shape, [3 * c, c]);
  for (const [i, m] of modules.slice(0, 3).entries()) assert.deepEqual(inProj.data.subarray(i * c * c, (i + 1) * c * c), expectedDelta(m, 0.7), m.name);
  assert.deepEqual((weights.get('conditioner.embedders.1.model.transformer.resblocks.0.attn.out_proj.weight') as Tensor).data, expectedDelta(modules[3], 0.7));
  const partial = { ...file, modules: new Map(modules.slice(0, 3).map((m) => [m.name, m])) };
  const skipped = await mergeNetworks([{ name: 'y', file: partial, te: 0.7, unet: 0.2, dyn: null }], ctx);
  assert.equal(skipped.weights.size, 0);
  assert.match(skipped.warnings.join('\n'), /1_model_transformer_resblocks_0_attn has modules for q, k, v only/);
});
