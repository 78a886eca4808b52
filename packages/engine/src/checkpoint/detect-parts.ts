/**
 * VAE and text-encoder hyper-parameters from key names and shapes: ldm `AutoencoderKL` (`first_stage_model.*`),
 * HF transformers `CLIPTextModel` (SD1, SDXL CLIP-L) and OpenCLIP's text tower (SD2, SDXL bigG).
 */
import type { CLIPTextConfig, ModelFamily, VAEConfig } from './config.ts';
import type { KeyShapes } from './key-shapes.ts';

export const VAE_PREFIX = 'first_stage_model.';

/** Latent scale factors of the reference configs (not stored in the weights). */
export const SCALE_FACTOR: Record<ModelFamily, number> = { sd1: 0.18215, sd2: 0.18215, sdxl: 0.13025, 'sdxl-refiner': 0.13025 };

export function detectVAE(s: KeyShapes, family: ModelFamily): VAEConfig {
  const P = VAE_PREFIX;
  const what = 'VAE (first_stage_model)';
  const convIn = s.need(`${P}encoder.conv_in.weight`, what);
  const ch = convIn[0];
  const levels = s.indices(`${P}encoder.down.`);
  const chMult = levels.map((l) => s.need(`${P}encoder.down.${l}.block.0.conv1.weight`, what)[0] / ch);
  const z = s.need(`${P}decoder.conv_in.weight`, what)[1];
  const moments = s.need(`${P}encoder.conv_out.weight`, what)[0];
  if (moments !== 2 * z) throw s.unsupported(`VAE encoder emits ${moments} channels, not 2 × z_channels (${z}); only double_z AutoencoderKL is supported`);
  return {
    ch,
    ch_mult: chMult,
    num_res_blocks: s.indices(`${P}encoder.down.0.block.`).length,
    z_channels: z,
    embed_dim: s.need(`${P}post_quant_conv.weight`, what)[1],
    in_channels: convIn[1],
    out_ch: s.need(`${P}decoder.conv_out.weight`, what)[0],
    scale_factor: SCALE_FACTOR[family],
  };
}

/** Real CLIP towers use 64-wide heads (L: 12, H: 16, bigG: 20); toy encoders (width < 256) use 2 heads. */
export function defaultTextHeads(width: number): number {
  return width >= 256 ? width / 64 : 2;
}

/** HF CLIPTextModel under `prefix` (ends in `text_model.`, or in `transformer.` for pre-4.x files). */
export function detectHfClip(s: KeyShapes, prefix: string, heads: number | undefined): CLIPTextConfig {
  const what = `CLIP text model (${prefix}*)`;
  const token = s.need(`${prefix}embeddings.token_embedding.weight`, what);
  const width = token[1];
  return {
    key_prefix: prefix,
    layout: 'hf',
    vocab_size: token[0],
    hidden_size: width,
    intermediate_size: s.need(`${prefix}encoder.layers.0.mlp.fc1.weight`, what)[0],
    num_hidden_layers: s.indices(`${prefix}encoder.layers.`).length,
    num_attention_heads: checkHeads(s, what, width, heads ?? defaultTextHeads(width)),
    max_position_embeddings: s.need(`${prefix}embeddings.position_embedding.weight`, what)[0],
    // openai CLIP ViT-L/14 (the only HF tower SD uses) was trained with quick_gelu.
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    projection_dim: null,
  };
}

/** OpenCLIP text tower under `prefix` (`….model.`). */
export function detectOpenClip(s: KeyShapes, prefix: string, heads: number | undefined): CLIPTextConfig {
  const what = `OpenCLIP text model (${prefix}*)`;
  const token = s.need(`${prefix}token_embedding.weight`, what);
  const width = token[1];
  return {
    key_prefix: prefix,
    layout: 'open_clip',
    vocab_size: token[0],
    hidden_size: width,
    intermediate_size: s.need(`${prefix}transformer.resblocks.0.mlp.c_fc.weight`, what)[0],
    num_hidden_layers: s.indices(`${prefix}transformer.resblocks.`).length,
    num_attention_heads: checkHeads(s, what, width, heads ?? defaultTextHeads(width)),
    max_position_embeddings: s.need(`${prefix}positional_embedding`, what)[0],
    // OpenCLIP ViT-H / bigG use exact (erf) GELU.
    hidden_act: 'gelu',
    layer_norm_eps: 1e-5,
    projection_dim: s.shape(`${prefix}text_projection`)?.[1] ?? null,
  };
}

function checkHeads(s: KeyShapes, what: string, width: number, heads: number): number {
  if (!(Number.isInteger(heads) && heads > 0 && width % heads === 0)) {
    throw s.unsupported(
      `${what}: width ${width} cannot be split into ${heads} attention heads; set __metadata__ 'sdapi.text_num_heads' or pass the textNumHeads option`,
    );
  }
  return heads;
}
