import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { layoutIndex } from '../../test/helpers/checkpoint-tables.ts';
import { describeCheckpoint, describeIndex } from './inspect.ts';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from './random.ts';
import { shapeIndex } from './tensor-index.ts';

test('describeCheckpoint of a random checkpoint: config, reasons, counts, metadata', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'sdapi-inspect-')), 'tiny.safetensors');
  writeRandomCheckpoint(path, TINY_SD15_CONFIG, 5, { dtype: 'F16' });
  const lines = describeCheckpoint(path).split('\n');
  assert.match(lines[0], /^file {6}.*tiny\.safetensors \(\d+\.\d MB\)$/);
  assert.equal(lines[1], 'family    sd1, prediction epsilon (__metadata__ sdapi.prediction_type = epsilon)');
  assert.equal(
    lines[2],
    'unet      model_channels 64, channel_mult [1, 2], num_res_blocks 1; attention at ds [2] (2 heads, depth [0, 1], middle 1); context 64, proj_in conv 1×1, adm none, in 4 → out 4',
  );
  assert.equal(lines[3], 'vae       ch 32, ch_mult [1, 2, 2, 2], num_res_blocks 1, z 4, embed 4, scale_factor 0.18215');
  assert.equal(
    lines[4],
    'text[0]   HF CLIP at cond_stage_model.transformer.text_model.: 4 layers × 64 (2 heads), mlp 256, vocab 49408, 77 positions, quick_gelu',
  );
  assert.match(
    lines[6],
    /^params {4}[\d,]+ total: \(top level\) 12,000, cond_stage_model 3,367,181, first_stage_model 1,250,759, model\.diffusion_model 3,918,532$/,
  );
  assert.equal(lines[7], 'dtypes    F32 × 12, F16 × 456, I64 × 1');
  assert.equal(lines[8], 'tensors   469: 469 in the detected layout, 0 unknown (ignored), 0 of the layout absent');
  assert.ok(lines.includes('          sdapi.description=random weights: draws noise, not pictures'), lines.join('\n'));
});

test('unknown and absent keys are counted and named', () => {
  const index = layoutIndex(TINY_SD15_CONFIG, {
    extra: { 'model_ema.decay': [], 'model_ema.num_updates': [], 'x.y': [2], 'z.w': [2] },
    drop: /position_ids|^betas$/,
  });
  const tensors = describeIndex(index).find((l) => l.startsWith('tensors')) ?? '';
  assert.equal(
    tensors,
    'tensors   471: 467 in the detected layout, 4 unknown (ignored) (model_ema.decay, model_ema.num_updates, x.y, …), 2 of the layout absent (betas, cond_stage_model.transformer.text_model.embeddings.position_ids)',
  );
});

test('a non-checkpoint still gets statistics, with the reason it cannot load; long metadata is clipped', () => {
  const lora = shapeIndex(
    { 'lora_unet_a.lora_down.weight': [4, 32], 'lora_unet_a.lora_up.weight': [32, 4], 'lora_te_b.alpha': [] },
    { ss_tag_frequency: 'x'.repeat(500) },
  );
  const lines = describeIndex(lora);
  assert.match(lines[0], /^model {5}not loadable: checkpoint: checkpoint has no 'model\.diffusion_model\.\*' keys — this looks like a LoRA/);
  assert.equal(lines[1], 'params    257 total: lora_unet_* 256, lora_te_* 1');
  assert.equal(lines[3], 'tensors   3');
  assert.equal(lines[4], `metadata  ss_tag_frequency=${'x'.repeat(120)}… (500 chars)`);
});
