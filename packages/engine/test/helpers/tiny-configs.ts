/**
 * The tiny fixtures' configs written out by hand from their model-config.json, so graph tests do not depend on
 * checkpoint detection (which has tests of its own).
 */
import type { ModelConfig } from '../../src/checkpoint/config.ts';

export const TINY_SD15: ModelConfig = {
  family: 'sd1',
  prediction_type: 'epsilon',
  unet: {
    in_channels: 4, out_channels: 4, model_channels: 64, attention_resolutions: [2], num_res_blocks: 1,
    channel_mult: [1, 2], num_heads: 2, num_head_channels: -1, transformer_depth: [1, 1], transformer_depth_middle: 1,
    context_dim: 32, use_linear_in_transformer: false, adm_in_channels: null,
  },
  vae: { ch: 32, ch_mult: [1, 2, 2, 2], num_res_blocks: 1, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, scale_factor: 0.18215 },
  text_encoders: [{
    key_prefix: 'cond_stage_model.transformer.text_model.', layout: 'hf', vocab_size: 49408, hidden_size: 32,
    intermediate_size: 128, num_hidden_layers: 3, num_attention_heads: 2, max_position_embeddings: 77,
    hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, projection_dim: null,
  }],
  schedule: { linear_start: 0.00085, linear_end: 0.012, num_train_timesteps: 1000 },
};

const TINY_VAE = TINY_SD15.vae;
const TINY_SCHEDULE = TINY_SD15.schedule;

/** tiny-sd2v: OpenCLIP width 32 (3 blocks, 2 heads, exact GELU, projection 32), v-prediction, 32-channel heads. */
export const TINY_SD2V: ModelConfig = {
  family: 'sd2',
  prediction_type: 'v',
  unet: {
    ...TINY_SD15.unet, attention_resolutions: [1], num_heads: -1, num_head_channels: 32, transformer_depth: [1, 0],
    use_linear_in_transformer: true,
  },
  vae: TINY_VAE,
  text_encoders: [{
    key_prefix: 'cond_stage_model.model.', layout: 'open_clip', vocab_size: 49408, hidden_size: 32, intermediate_size: 128,
    num_hidden_layers: 3, num_attention_heads: 2, max_position_embeddings: 77, hidden_act: 'gelu', layer_norm_eps: 1e-5,
    projection_dim: 32,
  }],
  schedule: TINY_SCHEDULE,
};

/** tiny-sdxl: CLIP-L (32) + bigG (48, projection 40) → context 80, adm 136 = 40 + 6 × 16, depth [0, 1, 2]. */
export const TINY_SDXL: ModelConfig = {
  family: 'sdxl',
  prediction_type: 'epsilon',
  unet: {
    in_channels: 4, out_channels: 4, model_channels: 64, attention_resolutions: [4, 2], num_res_blocks: 1,
    channel_mult: [1, 1, 2], num_heads: -1, num_head_channels: 32, transformer_depth: [0, 1, 2], transformer_depth_middle: 2,
    context_dim: 80, use_linear_in_transformer: true, adm_in_channels: 136,
  },
  vae: { ...TINY_VAE, scale_factor: 0.13025 },
  text_encoders: [
    { ...TINY_SD15.text_encoders[0], key_prefix: 'conditioner.embedders.0.transformer.text_model.' },
    { ...TINY_SD2V.text_encoders[0], key_prefix: 'conditioner.embedders.1.model.', hidden_size: 48, intermediate_size: 192, projection_dim: 40 },
  ],
  schedule: TINY_SCHEDULE,
};

/**
 * A tiny SDXL refiner (no fixture exists; written with checkpoint/random.ts): tiny-sdxl's UNet geometry, bigG alone
 * at `conditioner.embedders.0.model.` → context 48, adm 120 = 40 + 5 × 16 (original size, crop, aesthetic score).
 */
export const TINY_SDXL_REFINER: ModelConfig = {
  ...TINY_SDXL,
  family: 'sdxl-refiner',
  unet: { ...TINY_SDXL.unet, context_dim: 48, adm_in_channels: 120 },
  text_encoders: [{ ...TINY_SDXL.text_encoders[1], key_prefix: 'conditioner.embedders.0.model.' }],
};
