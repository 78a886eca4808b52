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
