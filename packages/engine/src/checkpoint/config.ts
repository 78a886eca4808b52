/**
 * Typed model configs, named after the ldm / sgm constructor arguments so a reader can hold them next to the
 * reference YAMLs (configs/stable-diffusion/v1-inference.yaml etc.). `detect.ts` fills them from key names
 * and tensor shapes; the graph builders take nothing else.
 */

/** `sdxl-refiner`: SDXL's refiner (OpenCLIP bigG only, aesthetic-score conditioning). */
export type ModelFamily = 'sd1' | 'sd2' | 'sdxl' | 'sdxl-refiner';
export type PredictionType = 'epsilon' | 'v';

/** ldm.modules.diffusionmodules.openaimodel.UNetModel arguments. */
export interface UNetConfig {
  in_channels: number;
  out_channels: number;
  model_channels: number;
  /** Downsampling factors (1, 2, 4, ...) at which SpatialTransformers sit. */
  attention_resolutions: number[];
  num_res_blocks: number;
  channel_mult: number[];
  /** Fixed head count (SD1: 8), or -1 when `num_head_channels` is used (SD2/SDXL: 64). */
  num_heads: number;
  num_head_channels: number;
  /** Transformer depth per level, 0 where the level has no attention (SDXL: [0, 2, 10], SD1.5: [1, 1, 1, 0]). */
  transformer_depth: number[];
  /** Depth of the middle block transformer. */
  transformer_depth_middle: number;
  context_dim: number;
  /** SD2/SDXL use Linear proj_in/proj_out; SD1 uses 1x1 convs. */
  use_linear_in_transformer: boolean;
  /** SDXL: width of the `label_emb` input (pooled text + size/crop embeddings), else null. */
  adm_in_channels: number | null;
}

/**
 * lllyasviel cldm.py ControlNet arguments: the UNet encoder it copies (`out_channels` and the decoder are unused)
 * plus the hint input; inferred from shapes by detect-controlnet.ts.
 */
export interface ControlNetConfig {
  unet: UNetConfig;
  /** Channels of the control image (3; 4 for inpaint ControlNets). */
  hint_channels: number;
  /** Shuffle models: residuals are spatially averaged and reach cond rows only (file stem contains "shuffle"). */
  global_average_pooling: boolean;
  /** Key layout of the file: ControlNet v1.1 (`control_model.*` or bare) or diffusers (`controlnet_cond_embedding.*`). */
  layout: 'ldm' | 'diffusers';
}

/** ldm.models.autoencoder.AutoencoderKL ddconfig + embed_dim. */
export interface VAEConfig {
  ch: number;
  ch_mult: number[];
  num_res_blocks: number;
  z_channels: number;
  embed_dim: number;
  in_channels: number;
  out_ch: number;
  /** Latent scaling: 0.18215 (SD1/SD2) or 0.13025 (SDXL). */
  scale_factor: number;
}

/** A CLIP text transformer (HF CLIPTextModel for SD1, OpenCLIP for SD2/SDXL-G). */
export interface CLIPTextConfig {
  /** Checkpoint key prefix, e.g. `cond_stage_model.transformer.text_model.`. */
  key_prefix: string;
  /** 'hf' = transformers CLIPTextModel layout; 'open_clip' = OpenCLIP `resblocks` layout. */
  layout: 'hf' | 'open_clip';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  /** OpenCLIP/SDXL-G text projection width, or null. */
  projection_dim: number | null;
}

/** The DDPM noise schedule (ldm `register_schedule`, beta_schedule "linear"). */
export interface ScheduleConfig {
  linear_start: number;
  linear_end: number;
  num_train_timesteps: number;
}

export interface ModelConfig {
  family: ModelFamily;
  prediction_type: PredictionType;
  unet: UNetConfig;
  vae: VAEConfig;
  /** SD1/SD2: one encoder; SDXL: [CLIP-L, OpenCLIP bigG]; SDXL refiner: [OpenCLIP bigG]. */
  text_encoders: CLIPTextConfig[];
  schedule: ScheduleConfig;
}
