/**
 * Reads a checkpoint's key names and tensor shapes once and returns the typed ModelConfig that the graph builders
 * take: SD1.x (HF CLIP `cond_stage_model.transformer.*`), SD2.x (OpenCLIP `cond_stage_model.model.*`), SDXL
 * (`conditioner.embedders.{0,1}`) and the SDXL refiner (`conditioner.embedders.0.model.*`), all in the original
 * ldm/sgm single-file layout. No tensor data is read. Unknown keys (`model_ema.*`, buffers) are ignored.
 *
 * Two things are not in the weights and follow documented rules, each overridable by `__metadata__` and options:
 * attention head counts (`unetHeads` in detect-unet.ts, `defaultTextHeads` in detect-parts.ts) and the
 * prediction type (`decidePrediction` below).
 */
import { basename } from 'node:path';
import type { CLIPTextConfig, ModelConfig, ModelFamily, PredictionType, ScheduleConfig, UNetConfig } from './config.ts';
import { classifyDiffusionModel, classifyNonCheckpoint } from './detect-hints.ts';
import { detectHfClip, detectOpenClip, detectVAE, VAE_PREFIX } from './detect-parts.ts';
import { detectUNetShape, type HeadOverride, UNET_PREFIX, unetHeads } from './detect-unet.ts';
import { KeyShapes } from './key-shapes.ts';
import type { TensorIndex } from './tensor-index.ts';

/** `__metadata__` keys we honour (and write into our random checkpoints), values are strings as safetensors requires. */
export const METADATA_KEYS = {
  /** "epsilon" | "v" */
  predictionType: 'sdapi.prediction_type',
  /** SD1-style fixed head count, e.g. "8". */
  numHeads: 'sdapi.num_heads',
  /** SD2/SDXL-style head width, e.g. "64". */
  numHeadChannels: 'sdapi.num_head_channels',
  /** Heads per text encoder in `text_encoders` order, comma-separated, e.g. "12,20". */
  textNumHeads: 'sdapi.text_num_heads',
} as const;

export interface DetectOptions {
  /** Wins over metadata and every rule (A1111's "this is a v model" yaml choice). */
  predictionType?: PredictionType;
  numHeads?: number;
  numHeadChannels?: number;
  /** Heads per text encoder, in `text_encoders` order. */
  textNumHeads?: number[];
  /** Name used by the SD2 "512 means epsilon" rule; defaults to the index's path. */
  fileName?: string;
}

interface EncoderSlot {
  layout: 'hf' | 'open_clip';
  prefix: string;
}

/**
 * Detects the architecture of a single-file SD checkpoint from its keys and shapes.
 * @throws UnsupportedModelError naming what the file is instead (LoRA, ControlNet, VAE, …) or what is missing.
 * @example
 *   const file = SafetensorsFile.open('models/Stable-diffusion/v1-5-pruned-emaonly.safetensors');
 *   const config = detectModel(file); // { family: 'sd1', prediction_type: 'epsilon', unet: { model_channels: 320, … }, … }
 */
export function detectModel(index: TensorIndex, opts: DetectOptions = {}): ModelConfig {
  const s = new KeyShapes(index);
  requireUNet(s);
  const { family, slots } = detectFamily(s);
  if (!s.hasPrefix(VAE_PREFIX)) {
    throw s.unsupported(
      `checkpoint has UNet and text-encoder weights but no VAE (${VAE_PREFIX}*). hint: use a checkpoint with the VAE baked in (the usual single-file release)`,
    );
  }
  const shape = detectUNetShape(s);
  const unet: UNetConfig = { ...shape, ...unetHeads(s, family, shape, headOverride(s, opts)) };
  const heads = opts.textNumHeads ?? parseIntList(s, METADATA_KEYS.textNumHeads);
  const text_encoders = slots.map((slot, i) => (slot.layout === 'hf' ? detectHfClip : detectOpenClip)(s, slot.prefix, heads?.[i]));
  checkConditioning(s, family, unet, text_encoders);
  return {
    family,
    prediction_type: decidePrediction(index, family, unet, opts).type,
    unet,
    vae: detectVAE(s, family),
    text_encoders,
    schedule: detectSchedule(s),
  };
}

function requireUNet(s: KeyShapes): void {
  if (s.keys.length === 0) throw s.unsupported('file has no tensors at all');
  if (!s.hasPrefix(UNET_PREFIX)) {
    const kind = classifyNonCheckpoint(s.keys);
    throw s.unsupported(
      `checkpoint has no '${UNET_PREFIX}*' keys — this looks like ${kind.what} (${s.keys.length} tensors, e.g. '${s.keys[0]}'). hint: ${kind.hint}`,
    );
  }
  if (!s.has(`${UNET_PREFIX}input_blocks.0.0.weight`)) {
    const dit = classifyDiffusionModel(s.keys);
    throw s.unsupported(
      `'${UNET_PREFIX}*' is not an SD1.x/SD2.x/SDXL UNet (no input_blocks)${dit ? `; it looks like ${dit}` : ''}. sdapi runs SD1.x, SD2.x and SDXL checkpoints`,
    );
  }
}

/** The family is decided by where the text encoders sit and which layout they use. */
function detectFamily(s: KeyShapes): { family: ModelFamily; slots: EncoderSlot[] } {
  const hf = (prefix: string): EncoderSlot | null => (s.has(`${prefix}embeddings.token_embedding.weight`) ? { layout: 'hf', prefix } : null);
  const open = (prefix: string): EncoderSlot | null => (s.has(`${prefix}token_embedding.weight`) ? { layout: 'open_clip', prefix } : null);
  if (s.hasPrefix('conditioner.embedders.')) {
    const clipL = hf('conditioner.embedders.0.transformer.text_model.');
    const bigG = open('conditioner.embedders.1.model.');
    if (clipL && bigG) return { family: 'sdxl', slots: [clipL, bigG] };
    const refinerG = open('conditioner.embedders.0.model.');
    if (refinerG) return { family: 'sdxl-refiner', slots: [refinerG] };
    throw s.unsupported(
      `conditioner.embedders.* is neither SDXL base (embedders.0 HF CLIP + embedders.1 OpenCLIP) nor the SDXL refiner (embedders.0 OpenCLIP); embedders found: ${s.indices('conditioner.embedders.').join(', ')}`,
    );
  }
  const sd2 = open('cond_stage_model.model.');
  if (sd2) return { family: 'sd2', slots: [sd2] };
  // Files saved with transformers < 4.x have no `text_model.` level; the builder just uses the prefix.
  const sd1 = hf('cond_stage_model.transformer.text_model.') ?? hf('cond_stage_model.transformer.');
  if (sd1) return { family: 'sd1', slots: [sd1] };
  throw s.unsupported(
    "checkpoint has UNet weights but no text encoder (neither 'cond_stage_model.*' for SD1/SD2 nor 'conditioner.embedders.*' for SDXL) — a UNet-only or stripped file. hint: use the full single-file checkpoint that includes CLIP",
  );
}

/** Cross-checks the UNet's conditioning inputs against the text encoders (catches bad merges early). */
function checkConditioning(s: KeyShapes, family: ModelFamily, unet: UNetConfig, encoders: CLIPTextConfig[]): void {
  const width = encoders.reduce((sum, e) => sum + e.hidden_size, 0);
  if (unet.context_dim !== width) {
    throw s.unsupported(
      `UNet cross-attention expects context width ${unet.context_dim} but the text encoder(s) give ${encoders.map((e) => e.hidden_size).join(' + ')} = ${width} (a mismatched merge?)`,
    );
  }
  const isXL = family === 'sdxl' || family === 'sdxl-refiner';
  if (!isXL && unet.adm_in_channels !== null) {
    throw s.unsupported(`${family} UNet has a label_emb (adm_in_channels ${unet.adm_in_channels}): class/unCLIP-conditioned variants are not supported`);
  }
  if (isXL) {
    const pooled = encoders[encoders.length - 1].projection_dim;
    // SDXL base: pooled + 6 size scalars (orig h,w, crop t,l, target h,w); refiner: pooled + 5 (aesthetic score instead of target).
    const scalars = family === 'sdxl' ? 6 : 5;
    const rest = (unet.adm_in_channels ?? 0) - (pooled ?? 0);
    if (unet.adm_in_channels === null || pooled === null || rest <= 0 || rest % scalars !== 0) {
      throw s.unsupported(`${family} UNet label_emb width ${unet.adm_in_channels} does not fit pooled text (${pooled}) + ${scalars} size embeddings`);
    }
  }
}

function detectSchedule(s: KeyShapes): ScheduleConfig {
  // Every SD release uses ldm's "linear" schedule with these endpoints; only the length is visible (buffer shapes).
  const steps = s.shape('alphas_cumprod')?.[0] ?? s.shape('denoiser.sigmas')?.[0] ?? 1000;
  return { linear_start: 0.00085, linear_end: 0.012, num_train_timesteps: steps };
}

function headOverride(s: KeyShapes, opts: DetectOptions): HeadOverride {
  if (opts.numHeads !== undefined || opts.numHeadChannels !== undefined) return { numHeads: opts.numHeads, numHeadChannels: opts.numHeadChannels };
  return { numHeads: parseIntList(s, METADATA_KEYS.numHeads)?.[0], numHeadChannels: parseIntList(s, METADATA_KEYS.numHeadChannels)?.[0] };
}

function parseIntList(s: KeyShapes, key: string): number[] | undefined {
  const text = s.metadata(key);
  if (text === undefined) return undefined;
  const values = text.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !(Number.isInteger(v) && v > 0)))
    throw s.unsupported(`__metadata__ '${key}' = ${JSON.stringify(text)} is not a comma-separated list of positive integers`);
  return values;
}

export interface PredictionDecision {
  type: PredictionType;
  /** Why, in words (shown by `sdapi inspect`). */
  reason: string;
}

const PREDICTION_WORDS: Record<string, PredictionType> = {
  epsilon: 'epsilon',
  eps: 'epsilon',
  v: 'v',
  v_prediction: 'v',
  'v-prediction': 'v',
  v_pred: 'v',
  velocity: 'v',
};

/**
 * Epsilon or v: the weights do not say (A1111 runs an SD2 UNet once to find out). First match wins:
 * 1. the `predictionType` option;
 * 2. `__metadata__`: `sdapi.prediction_type` or `modelspec.prediction_type` ("epsilon" / "v"),
 *    kohya's `ss_v_parameterization` = "true", or a `modelspec.architecture` ending in "-v";
 * 3. a `v_pred` marker tensor (what ComfyUI writes for v models);
 * 4. SD2 only: inpainting/depth UNets (in_channels ≠ 4) and file names containing "512" (the 512-base
 *    releases) are epsilon; every other SD2 file is v (the 768-v releases 2.0-v and 2.1);
 * 5. SD1, SDXL, SDXL refiner: epsilon.
 */
export function decidePrediction(index: TensorIndex, family: ModelFamily, unet: Pick<UNetConfig, 'in_channels'>, opts: DetectOptions = {}): PredictionDecision {
  if (opts.predictionType) return { type: opts.predictionType, reason: 'set by option' };
  const meta = index.metadata ?? {};
  for (const key of [METADATA_KEYS.predictionType, 'modelspec.prediction_type']) {
    const value = meta[key];
    if (value === undefined) continue;
    const type = PREDICTION_WORDS[value.trim().toLowerCase()];
    if (!type)
      throw new KeyShapes(index).unsupported(
        `__metadata__ '${key}' = ${JSON.stringify(value)} is not a prediction type (use one of ${Object.keys(PREDICTION_WORDS).join(', ')})`,
      );
    return { type, reason: `__metadata__ ${key} = ${value}` };
  }
  if (/^true$/i.test(meta.ss_v_parameterization ?? '')) return { type: 'v', reason: '__metadata__ ss_v_parameterization = true' };
  if (/-v$/.test(meta['modelspec.architecture'] ?? '')) return { type: 'v', reason: `__metadata__ modelspec.architecture = ${meta['modelspec.architecture']}` };
  if (index.keys().includes('v_pred')) return { type: 'v', reason: "the file has a 'v_pred' marker tensor" };
  if (family !== 'sd2') return { type: 'epsilon', reason: `${family} models predict epsilon` };
  if (unet.in_channels !== 4) return { type: 'epsilon', reason: `SD2 UNet with ${unet.in_channels} input channels (inpainting/depth) predicts epsilon` };
  const name = basename(opts.fileName ?? index.path ?? '');
  if (/(^|\D)512(\D|$)/.test(name)) return { type: 'epsilon', reason: `SD2 file name '${name}' says 512 (the 512-base releases predict epsilon)` };
  return {
    type: 'v',
    reason:
      'SD2 default: the 768-v releases predict v (not recorded in the weights; override with the predictionType option or sdapi.prediction_type metadata)',
  };
}
