import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutIndex, layoutTable, SD2_768_V_CONFIG, SDXL_BASE_CONFIG, SDXL_REFINER_CONFIG, variant } from '../../test/helpers/checkpoint-tables.ts';
import { UnsupportedModelError } from '../errors.ts';
import type { ModelConfig } from './config.ts';
import { detectModel } from './detect.ts';
import { checkpointLayout } from './layout.ts';
import { SD15_CONFIG, TINY_SD15_CONFIG } from './random.ts';
import { numel, shapeIndex } from './tensor-index.ts';

function params(config: ModelConfig, prefix: string): { tensors: number; params: number } {
  const specs = checkpointLayout(config).filter((s) => s.name.startsWith(prefix) && s.init !== 'position_ids');
  return { tensors: specs.length, params: specs.reduce((n, s) => n + numel(s.shape), 0) };
}

test('real SD1.5 shapes: the layout has the published sizes and detects as v1-inference.yaml', () => {
  const spot: Record<string, number[]> = {
    'model.diffusion_model.input_blocks.0.0.weight': [320, 4, 3, 3],
    'model.diffusion_model.input_blocks.1.1.proj_in.weight': [320, 320, 1, 1],
    'model.diffusion_model.input_blocks.3.0.op.weight': [320, 320, 3, 3],
    'model.diffusion_model.input_blocks.4.0.skip_connection.weight': [640, 320, 1, 1],
    'model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight': [640, 768],
    'model.diffusion_model.middle_block.1.transformer_blocks.0.ff.net.0.proj.weight': [10240, 1280],
    'model.diffusion_model.output_blocks.2.1.conv.weight': [1280, 1280, 3, 3],
    'model.diffusion_model.output_blocks.3.0.skip_connection.weight': [1280, 2560, 1, 1],
    'model.diffusion_model.output_blocks.8.2.conv.weight': [640, 640, 3, 3],
    'model.diffusion_model.output_blocks.11.1.proj_out.weight': [320, 320, 1, 1],
    'model.diffusion_model.out.2.weight': [4, 320, 3, 3],
    'model.diffusion_model.time_embed.0.weight': [1280, 320],
    'first_stage_model.encoder.down.3.block.1.conv2.weight': [512, 512, 3, 3],
    'first_stage_model.decoder.up.0.block.0.nin_shortcut.weight': [128, 256, 1, 1],
    'first_stage_model.quant_conv.weight': [8, 8, 1, 1],
    'cond_stage_model.transformer.text_model.embeddings.token_embedding.weight': [49408, 768],
    'cond_stage_model.transformer.text_model.encoder.layers.11.mlp.fc1.weight': [3072, 768],
  };
  for (const [name, shape] of Object.entries(spot)) assert.deepEqual(layoutIndex(SD15_CONFIG).info(name).shape, shape, name);
  assert.deepEqual(params(SD15_CONFIG, 'model.diffusion_model.'), { tensors: 686, params: 859_520_964 });
  assert.deepEqual(params(SD15_CONFIG, 'first_stage_model.'), { tensors: 248, params: 83_653_863 });
  assert.deepEqual(params(SD15_CONFIG, 'cond_stage_model.'), { tensors: 196, params: 123_060_480 });
  // The expected values are the v1-inference.yaml numbers, written out rather than read from the preset.
  const c = detectModel(layoutIndex(SD15_CONFIG));
  assert.deepEqual(c, SD15_CONFIG);
  assert.deepEqual(
    [c.unet.model_channels, c.unet.channel_mult, c.unet.num_res_blocks, c.unet.attention_resolutions, c.unet.num_heads, c.unet.context_dim],
    [320, [1, 2, 4, 4], 2, [4, 2, 1], 8, 768],
  );
  const t = c.text_encoders[0];
  assert.deepEqual([t.num_hidden_layers, t.hidden_size, t.num_attention_heads], [12, 768, 12]);
  assert.deepEqual([c.vae.ch, c.vae.ch_mult, c.vae.num_res_blocks], [128, [1, 2, 4, 4], 2]);
});

test('real SD2 768-v, SDXL base and SDXL refiner shapes detect back to their configs', () => {
  assert.equal(params(SD2_768_V_CONFIG, 'model.diffusion_model.').params, 865_910_724);
  assert.equal(params(SDXL_BASE_CONFIG, 'model.diffusion_model.').params, 2_567_463_684);
  // bigG as CLIPTextModelWithProjection (694,659,840) + OpenCLIP's logit_scale.
  assert.equal(params(SDXL_BASE_CONFIG, 'conditioner.embedders.1.').params, 694_659_841);
  assert.deepEqual(detectModel(layoutIndex(SD2_768_V_CONFIG)), SD2_768_V_CONFIG);
  assert.deepEqual(detectModel(layoutIndex(SDXL_BASE_CONFIG)), SDXL_BASE_CONFIG);
  assert.deepEqual(detectModel(layoutIndex(SDXL_REFINER_CONFIG)), SDXL_REFINER_CONFIG);
});

test('model_ema.* and other unknown keys are ignored', () => {
  const extra = { 'model_ema.decay': [], 'model_ema.diffusion_modelinput_blocks00weight': [64, 4, 3, 3], 'some.other.tensor': [3], v_not_pred: [1] };
  assert.deepEqual(detectModel(layoutIndex(TINY_SD15_CONFIG, { extra })), TINY_SD15_CONFIG);
});

test('SD1 files from transformers < 4 (no text_model. level) keep their key prefix', () => {
  const old = variant(TINY_SD15_CONFIG, (c) => {
    c.text_encoders[0].key_prefix = 'cond_stage_model.transformer.';
  });
  assert.deepEqual(detectModel(layoutIndex(old)), old);
});

test('head rule: real scale uses the YAML values, toy scale 2 heads; metadata and options override', () => {
  const toySd2 = variant(SD2_768_V_CONFIG, (c) => Object.assign(c.unet, { model_channels: 96, num_head_channels: 48, context_dim: 1024 }));
  assert.equal(detectModel(layoutIndex(toySd2)).unet.num_head_channels, 48, 'toy SD2: narrowest attention width 96 / 2');
  const four = detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.num_heads': '4' } })).unet;
  assert.deepEqual([four.num_heads, four.num_head_channels], [4, -1]);
  const width = detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.num_head_channels': '16' } })).unet;
  assert.deepEqual([width.num_heads, width.num_head_channels], [-1, 16]);
  const option = detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.num_heads': '4' } }), { numHeads: 8 }).unet;
  assert.equal(option.num_heads, 8, 'the option beats metadata');
  const text = detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.text_num_heads': '4' } })).text_encoders[0];
  assert.equal(text.num_attention_heads, 4);
});

test('an impossible head split names the metadata keys that fix it', () => {
  const odd = variant(SD15_CONFIG, (c) => {
    c.unet.model_channels = 260;
  }); // real scale → 8 heads, 260 % 8 ≠ 0
  assert.throws(() => detectModel(layoutIndex(odd)), /cannot split UNet attention width 260 into 8 heads.*'sdapi\.num_heads'/);
  assert.equal(detectModel(layoutIndex(odd, { metadata: { 'sdapi.num_heads': '4' } })).unet.num_heads, 4);
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.text_num_heads': '3' } })),
    /width 64 cannot be split into 3 attention heads/,
  );
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata: { 'sdapi.num_heads': 'eight' } })),
    /'sdapi\.num_heads' = "eight" is not a comma-separated list of positive integers/,
  );
});

test('prediction type: SD2 defaults to v except 512 / inpainting; metadata, v_pred and options decide first', () => {
  const sd2 = (opts: Parameters<typeof layoutIndex>[1] = {}, config = SD2_768_V_CONFIG) => detectModel(layoutIndex(config, opts)).prediction_type;
  assert.equal(sd2(), 'v');
  assert.equal(sd2({ path: '/m/v2-1_768-ema-pruned.safetensors' }), 'v');
  assert.equal(sd2({ path: '/m/v2-1_512-ema-pruned.safetensors' }), 'epsilon');
  assert.equal(sd2({ path: '/m/512-base-ema.safetensors' }), 'epsilon');
  assert.equal(
    sd2(
      {},
      variant(SD2_768_V_CONFIG, (c) => {
        c.unet.in_channels = 9;
      }),
    ),
    'epsilon',
  );
  assert.equal(sd2({ metadata: { 'modelspec.prediction_type': 'epsilon' } }), 'epsilon');
  assert.equal(sd2({ path: '/m/x512.safetensors', metadata: { 'sdapi.prediction_type': 'v' } }), 'v');
  assert.equal(detectModel(layoutIndex(SD2_768_V_CONFIG), { fileName: 'sd21-512.safetensors' }).prediction_type, 'epsilon');
  assert.equal(
    detectModel(layoutIndex(SD2_768_V_CONFIG, { metadata: { 'sdapi.prediction_type': 'v' } }), { predictionType: 'epsilon' }).prediction_type,
    'epsilon',
  );
  const sd1 = (metadata: Record<string, string>, extra = {}) => detectModel(layoutIndex(TINY_SD15_CONFIG, { metadata, extra })).prediction_type;
  assert.equal(sd1({}), 'epsilon');
  assert.equal(sd1({ 'modelspec.prediction_type': 'v_prediction' }), 'v');
  assert.equal(sd1({ ss_v_parameterization: 'True' }), 'v');
  assert.equal(sd1({ 'modelspec.architecture': 'stable-diffusion-v2-768-v' }), 'v');
  assert.equal(sd1({}, { v_pred: [] }), 'v');
  assert.throws(() => sd1({ 'sdapi.prediction_type': 'x0' }), /'sdapi\.prediction_type' = "x0" is not a prediction type \(use one of epsilon, eps, v,/);
});

const refused = (pattern: RegExp) => (e: unknown) => e instanceof UnsupportedModelError && pattern.test(e.message);

test('files that are not checkpoints say what they are', () => {
  const vaeOnly = Object.fromEntries(Object.entries(layoutTable(TINY_SD15_CONFIG)).filter(([k]) => k.startsWith('first_stage_model.')));
  assert.throws(
    () => detectModel(shapeIndex(vaeOnly, {}, '/m/vae.safetensors')),
    refused(/^\/m\/vae\.safetensors: checkpoint has no 'model\.diffusion_model\.\*' keys — this looks like a standalone VAE .*models\/VAE/),
  );
  assert.throws(
    () => detectModel(shapeIndex({ 'encoder.conv_in.weight': [128, 3, 3, 3], 'decoder.conv_in.weight': [512, 4, 3, 3] })),
    refused(/a standalone VAE/),
  );
  assert.throws(() => detectModel(shapeIndex({ emb_params: [2, 768] })), refused(/a textual-inversion embedding .*embeddings\//));
  assert.throws(() => detectModel(shapeIndex({ 'down_blocks.0.resnets.0.conv1.weight': [320, 320, 3, 3] })), refused(/a diffusers-format component/));
  assert.throws(
    () => detectModel(shapeIndex({ 'model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight': [4608, 1536] })),
    refused(/not an SD1\.x\/SD2\.x\/SDXL UNet .*SD3-style MMDiT/),
  );
  assert.throws(() => detectModel(shapeIndex({ 'model.diffusion_model.double_blocks.0.img_attn.qkv.weight': [9216, 3072] })), refused(/Flux-style DiT/));
  assert.throws(() => detectModel(shapeIndex({ something: [1] })), refused(/looks like not a Stable Diffusion checkpoint/));
  assert.throws(() => detectModel(shapeIndex({})), refused(/file has no tensors at all/));
});

test('checkpoints missing the text encoder or the VAE are refused with what is missing', () => {
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { drop: /^cond_stage_model\./ })),
    refused(/UNet weights but no text encoder \(neither 'cond_stage_model\.\*'/),
  );
  assert.throws(() => detectModel(layoutIndex(TINY_SD15_CONFIG, { drop: /^first_stage_model\./ })), refused(/but no VAE \(first_stage_model\.\*\)/));
  assert.throws(
    () => detectModel(layoutIndex(SDXL_BASE_CONFIG, { drop: /^conditioner\.embedders\.1\./ })),
    refused(/neither SDXL base .* nor the SDXL refiner/),
  );
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { drop: /^model\.diffusion_model\.out\.2\./ })),
    refused(/UNet conv_out: expected tensor 'model\.diffusion_model\.out\.2\.weight' is missing/),
  );
});

test('inconsistent merges are refused: context width, label_emb, levels', () => {
  const wrongContext = variant(TINY_SD15_CONFIG, (c) => {
    c.unet.context_dim = 32;
  });
  assert.throws(() => detectModel(layoutIndex(wrongContext)), refused(/UNet cross-attention expects context width 32 but the text encoder\(s\) give 64 = 64/));
  const sd1WithLabel = variant(TINY_SD15_CONFIG, (c) => {
    c.unet.adm_in_channels = 8;
  });
  assert.throws(() => detectModel(layoutIndex(sd1WithLabel)), refused(/sd1 UNet has a label_emb \(adm_in_channels 8\)/));
  const badAdm = variant(SDXL_BASE_CONFIG, (c) => {
    c.unet.adm_in_channels = 2817;
  });
  assert.throws(() => detectModel(layoutIndex(badAdm)), refused(/label_emb width 2817 does not fit pooled text \(1280\) \+ 6 size embeddings/));
  const extraBlock = { 'model.diffusion_model.input_blocks.2.0.out_layers.3.weight': [64, 64, 3, 3] }; // turns the Downsample into a ResBlock
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { drop: /^model\.diffusion_model\.output_blocks\.3\./ })),
    refused(/UNet has 3 output_blocks; 2 levels × 2 expected/),
  );
  assert.throws(
    () => detectModel(layoutIndex(TINY_SD15_CONFIG, { extra: extraBlock, drop: /input_blocks\.2\.0\.op\./ })),
    refused(/UNet level 0 mixes block widths or transformer depths \(input_blocks\.3: 128 channels, depth 1; earlier: 64, depth 0\)/),
  );
});
