/**
 * A kohya-format SDXL LoRA built here for the tiny SDXL fixture (rank 2, alpha 1 → scale 0.5), applied through the
 * loaded model as a `<lora:…>` tag would be: every module must land on the ldm key written out by hand below with
 * the delta W' − W = multiplier · (alpha / rank) · up · down computed here in float64 (TE multiplier for
 * `lora_te1_` (CLIP-L) and `lora_te2_` (OpenCLIP bigG, HF names mapped to resblocks; q/k/v into the rows of the
 * fused in_proj), UNet multiplier for the compvis-named `lora_unet_input_blocks_…` / `middle_block` /
 * `output_blocks` modules SDXL LoRAs use). Then the tag end to end: a different image, `Lora hashes`, no warnings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SafetensorsFile, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { LoraCatalog } from '../src/networks/lora-catalog.ts';
import { readNetworkFile } from '../src/networks/network-file.ts';
import { defaultTxt2ImgParams, StableDiffusion } from '../src/stable-diffusion.ts';
import { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

const skip = needFixture('tiny-sdxl', 'model.safetensors');
const RANK = 2;
const ALPHA = 1;
const TE = 0.8;
const UNET = 0.6;

const TE2 = 'conditioner.embedders.1.model.transformer.resblocks';
const UNET_KEY = 'model.diffusion_model';
/** module → [ldm key, row offset into it (fused in_proj), rows, cols, multiplier]. */
const MODULES: Record<string, [string, number, number, number, number]> = {
  lora_te1_text_model_encoder_layers_0_self_attn_q_proj: [
    'conditioner.embedders.0.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight',
    0,
    32,
    32,
    TE,
  ],
  lora_te2_text_model_encoder_layers_0_mlp_fc1: [`${TE2}.0.mlp.c_fc.weight`, 0, 192, 48, TE],
  lora_te2_text_model_encoder_layers_0_mlp_fc2: [`${TE2}.0.mlp.c_proj.weight`, 0, 48, 192, TE],
  lora_te2_text_model_encoder_layers_1_self_attn_q_proj: [`${TE2}.1.attn.in_proj_weight`, 0, 48, 48, TE],
  lora_te2_text_model_encoder_layers_1_self_attn_k_proj: [`${TE2}.1.attn.in_proj_weight`, 48, 48, 48, TE],
  lora_te2_text_model_encoder_layers_1_self_attn_v_proj: [`${TE2}.1.attn.in_proj_weight`, 96, 48, 48, TE],
  lora_te2_text_model_encoder_layers_1_self_attn_out_proj: [`${TE2}.1.attn.out_proj.weight`, 0, 48, 48, TE],
  lora_unet_input_blocks_5_1_transformer_blocks_0_attn2_to_k: [`${UNET_KEY}.input_blocks.5.1.transformer_blocks.0.attn2.to_k.weight`, 0, 128, 80, UNET],
  lora_unet_middle_block_1_proj_in: [`${UNET_KEY}.middle_block.1.proj_in.weight`, 0, 128, 128, UNET],
  lora_unet_output_blocks_2_1_transformer_blocks_0_ff_net_2: [`${UNET_KEY}.output_blocks.2.1.transformer_blocks.0.ff.net.2.weight`, 0, 64, 256, UNET],
};

let dir: string;
let loraPath: string;
const factors = new Map<string, { up: Float32Array; down: Float32Array }>();

/** Deterministic, distinct per module (a seeded LCG), about ±0.5. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

const bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sdapi-lora-sdxl-'));
  loraPath = join(dir, 'tiny_sdxl_lora.safetensors');
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Uint8Array }> = {};
  Object.entries(MODULES).forEach(([module, [, , rows, cols]], i) => {
    const up = values(rows * RANK, 100 + i);
    const down = values(RANK * cols, 200 + i);
    factors.set(module, { up, down });
    tensors[`${module}.lora_up.weight`] = { dtype: 'F32', shape: [rows, RANK], data: bytes(up) };
    tensors[`${module}.lora_down.weight`] = { dtype: 'F32', shape: [RANK, cols], data: bytes(down) };
    tensors[`${module}.alpha`] = { dtype: 'F32', shape: [], data: bytes(Float32Array.of(ALPHA)) };
  });
  writeSafetensors(loraPath, tensors, { ss_network_module: 'networks.lora', ss_base_model_version: 'sdxl_base_v1-0' });
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('every module of the SDXL LoRA lands on its ldm key with multiplier · alpha/rank · up·down (float64 check)', { skip }, async () => {
  const sd = StableDiffusion.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  const checkpoint = SafetensorsFile.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  try {
    const merged = await sd.model.networks.merge(
      [{ name: 'tiny_sdxl_lora', file: readNetworkFile(loraPath), te: TE, unet: UNET, dyn: null }],
      'sdxl-lora-test',
    );
    assert.deepEqual(merged.warnings, []);
    const keys = [...new Set(Object.values(MODULES).map(([key]) => key))].sort();
    assert.deepEqual([...merged.weights.keys()].sort(), keys, 'exactly the ldm keys the modules name');
    // Expected weights: the checkpoint's plus each module's delta in its rows.
    const expected = new Map(keys.map((k) => [k, Float64Array.from(checkpoint.readFloat32(k))]));
    for (const [module, [key, offset, rows, cols, multiplier]] of Object.entries(MODULES)) {
      const { up, down } = factors.get(module) as { up: Float32Array; down: Float32Array };
      const w = expected.get(key) as Float64Array;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          let d = 0;
          for (let k = 0; k < RANK; k++) d += up[r * RANK + k] * down[k * cols + c];
          w[(offset + r) * cols + c] += multiplier * (ALPHA / RANK) * d;
        }
      }
    }
    let worst = 0;
    for (const key of keys) {
      const merge = merged.weights.get(key);
      assert.ok(merge instanceof Tensor, `${key}: tiny-sdxl is F32, so its merge stays float32`);
      const got = merge.data;
      const want = expected.get(key) as Float64Array;
      const base = checkpoint.readFloat32(key);
      assert.equal(got.length, want.length, key);
      let maxErr = 0;
      let maxDelta = 0;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
        maxDelta = Math.max(maxDelta, Math.abs(want[i] - base[i]));
      }
      console.log(`# ${key}: max |delta| ${maxDelta.toExponential(2)}, max error ${maxErr.toExponential(2)}`);
      assert.ok(maxDelta > 1e-3, `${key}: the LoRA changes it`);
      assert.ok(maxErr <= 1e-6 * Math.max(1, maxDelta), `${key}: max error ${maxErr}`);
      worst = Math.max(worst, maxErr);
    }
    console.log(`# ${keys.length} SDXL ldm keys merged, worst max abs error ${worst.toExponential(2)}`);
  } finally {
    checkpoint.close();
    await sd.release();
  }
});

test('the SDXL LoRA through a prompt tag: a different image, Lora hashes, no warnings; the plain prompt after is the base image', { skip }, async () => {
  const sd = StableDiffusion.open(fixturePath('tiny-sdxl', 'model.safetensors'));
  sd.loras = new LoraCatalog({ dirs: [dir] });
  try {
    const job = { seed: 7, steps: 3, width: 64, height: 64, samplerName: 'Euler' };
    const base = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: 'a cat' }));
    const lora = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: `a cat <lora:tiny_sdxl_lora:${TE}:${UNET}>` }));
    const again = await sd.txt2img(defaultTxt2ImgParams({ ...job, prompt: 'a cat' }));
    assert.equal(lora.warnings, undefined, JSON.stringify(lora.warnings));
    assert.match(String(lora.extraGenerationParams['Lora hashes']), /^tiny_sdxl_lora: [0-9a-f]{12}$/);
    assert.notDeepEqual(lora.images[0].rgb, base.images[0].rgb);
    assert.deepEqual(again.images[0].rgb, base.images[0].rgb);
  } finally {
    await sd.release();
  }
});
