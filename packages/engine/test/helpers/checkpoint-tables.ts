/**
 * Header-only checkpoints for tests: the `{name: shape}` table a config implies (via checkpoint/layout.ts) as a
 * TensorIndex, plus the published configs of the real SD2 768-v, SDXL base and SDXL refiner (from the reference
 * YAMLs v2-inference-v.yaml, sd_xl_base.yaml, sd_xl_refiner.yaml), so full-size layouts are tested without bytes.
 */
import type { CLIPTextConfig, ModelConfig } from '../../src/checkpoint/config.ts';
import { checkpointLayout } from '../../src/checkpoint/layout.ts';
import { SD15_CONFIG } from '../../src/checkpoint/random.ts';
import { type ShapeTable, shapeIndex, type TensorIndex } from '../../src/checkpoint/tensor-index.ts';

/** The key/shape table of `config`'s layout. */
export function layoutTable(config: ModelConfig): ShapeTable {
  const table: ShapeTable = {};
  for (const s of checkpointLayout(config)) table[s.name] = { shape: s.shape, dtype: s.init === 'position_ids' ? 'I64' : 'F16' };
  return table;
}

/** `config`'s layout as a TensorIndex, with `extra` tensors added and keys matching `drop` removed. */
export function layoutIndex(
  config: ModelConfig,
  { metadata = {}, extra = {}, drop, path }: { metadata?: Record<string, string>; extra?: ShapeTable; drop?: RegExp; path?: string } = {},
): TensorIndex {
  const table = { ...layoutTable(config), ...extra };
  if (drop) for (const key of Object.keys(table)) if (drop.test(key)) delete table[key];
  return shapeIndex(table, metadata, path);
}

/** A mutable deep copy with changes applied (presets are frozen). */
export function variant(config: ModelConfig, change: (c: ModelConfig) => void): ModelConfig {
  const copy = structuredClone(config);
  change(copy);
  return copy;
}

const openClip = (prefix: string, width: number, layers: number, projection: number): CLIPTextConfig => ({
  key_prefix: prefix,
  layout: 'open_clip',
  vocab_size: 49408,
  hidden_size: width,
  intermediate_size: 4 * width,
  num_hidden_layers: layers,
  num_attention_heads: width / 64,
  max_position_embeddings: 77,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-5,
  projection_dim: projection,
});

/** SD 2.x 768-v: OpenCLIP ViT-H (24 resblocks in the file), 64-channel heads, linear proj_in. */
export const SD2_768_V_CONFIG: ModelConfig = variant(SD15_CONFIG, (c) => {
  c.family = 'sd2';
  c.prediction_type = 'v';
  Object.assign(c.unet, { num_heads: -1, num_head_channels: 64, context_dim: 1024, use_linear_in_transformer: true });
  c.text_encoders = [openClip('cond_stage_model.model.', 1024, 24, 1024)];
});

/** SDXL 1.0 base: levels [1, 2, 4], depth [0, 2, 10], CLIP-L + bigG, adm 2816 = 1280 + 6 × 256. */
export const SDXL_BASE_CONFIG: ModelConfig = variant(SD15_CONFIG, (c) => {
  c.family = 'sdxl';
  Object.assign(c.unet, {
    channel_mult: [1, 2, 4],
    attention_resolutions: [4, 2],
    transformer_depth: [0, 2, 10],
    transformer_depth_middle: 10,
    num_heads: -1,
    num_head_channels: 64,
    context_dim: 2048,
    use_linear_in_transformer: true,
    adm_in_channels: 2816,
  });
  c.vae.scale_factor = 0.13025;
  c.text_encoders = [
    { ...c.text_encoders[0], key_prefix: 'conditioner.embedders.0.transformer.text_model.' },
    openClip('conditioner.embedders.1.model.', 1280, 32, 1280),
  ];
});

/** SDXL 1.0 refiner: model_channels 384, depth 4 at ds 2 and 4, bigG only, adm 2560 = 1280 + 5 × 256. */
export const SDXL_REFINER_CONFIG: ModelConfig = variant(SDXL_BASE_CONFIG, (c) => {
  c.family = 'sdxl-refiner';
  Object.assign(c.unet, {
    model_channels: 384,
    channel_mult: [1, 2, 4, 4],
    attention_resolutions: [4, 2],
    transformer_depth: [0, 4, 4, 0],
    transformer_depth_middle: 4,
    context_dim: 1280,
    adm_in_channels: 2560,
  });
  c.text_encoders = [openClip('conditioner.embedders.0.model.', 1280, 32, 1280)];
});
