/**
 * SDXL's `vector` conditioning (the UNet's `y`, fed to `label_emb`): the pooled bigG text feature followed by
 * sgm's Fourier "micro-conditioning" embeddings (Stability-AI/generative-models@45c443b
 * sgm/modules/encoders/modules.py ConcatTimestepEmbedderND, sgm/modules/diffusionmodules/util.py
 * timestep_embedding), with the inputs A1111 passes (sd_models_xl.get_learned_conditioning semantics):
 * original and target size = (height, width) of the image being generated, crop = (sdxl_crop_top,
 * sdxl_crop_left), and for the refiner the aesthetic score (high for the prompt, low for the negative prompt).
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import { Tensor } from '../tensor.ts';
import type { Txt2ImgParams } from './types.ts';

const f32 = Math.fround;

/** The micro-conditioning inputs of one job, each pair (height, width)-ordered as sgm expects. */
export interface SdxlMicroConditioning {
  originalSize: readonly [number, number];
  cropTopLeft: readonly [number, number];
  targetSize: readonly [number, number];
  /** SDXL refiner only: the prompt's and the negative prompt's score (A1111 sdxl_refiner_high/low_aesthetic_score). */
  aestheticScore: number;
  negativeAestheticScore: number;
}

/** A1111's values when nothing says otherwise (its `or 1024` fallback, crop 0,0, scores 6.0 / 2.5). */
export const DEFAULT_SDXL_MICRO_CONDITIONING: SdxlMicroConditioning = {
  originalSize: [1024, 1024],
  cropTopLeft: [0, 0],
  targetSize: [1024, 1024],
  aestheticScore: 6,
  negativeAestheticScore: 2.5,
};

/**
 * A1111's inputs for a job: original = target = (height, width) of the image, crop and scores from the options.
 * `sdxlOriginalSize` / `sdxlTargetSize` (engine extensions, not A1111 fields) override the sizes.
 */
export function sdxlMicroConditioning(params: Txt2ImgParams): SdxlMicroConditioning {
  const o = params.options;
  const d = DEFAULT_SDXL_MICRO_CONDITIONING;
  const hw = (size: { width: number; height: number } | undefined) => [size?.height ?? params.height, size?.width ?? params.width] as const;
  return {
    originalSize: hw(params.sdxlOriginalSize),
    cropTopLeft: [o.sdxl_crop_top ?? 0, o.sdxl_crop_left ?? 0],
    targetSize: hw(params.sdxlTargetSize),
    aestheticScore: o.sdxl_refiner_high_aesthetic_score ?? d.aestheticScore,
    negativeAestheticScore: o.sdxl_refiner_low_aesthetic_score ?? d.negativeAestheticScore,
  };
}

/**
 * The embedders after the text encoder in each sgm config's `conditioner` (sd_xl_base.yaml: original size,
 * crop, target size; sd_xl_refiner.yaml: original size, crop, aesthetic score), as lists of scalars.
 */
const VECTOR_INPUTS: Partial<Record<ModelConfig['family'], (c: SdxlMicroConditioning, negative: boolean) => (readonly number[])[]>> = {
  sdxl: (c) => [c.originalSize, c.cropTopLeft, c.targetSize],
  'sdxl-refiner': (c, negative) => [c.originalSize, c.cropTopLeft, [negative ? c.negativeAestheticScore : c.aestheticScore]],
};

/** Whether the model's UNet takes a `vector` (the family has a micro-conditioning table). */
export function usesVectorConditioning(config: ModelConfig): boolean {
  return config.unet.adm_in_channels !== null && VECTOR_INPUTS[config.family] !== undefined;
}

/**
 * sgm `timestep_embedding(t, dim)` for one scalar: [cos(t·f_i) | sin(t·f_i)], f_i = exp(−ln(10000)·i/half),
 * in float32 steps as torch computes it.
 */
export function timestepEmbedding(t: number, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(dim);
  const negLog = f32(-Math.log(10000));
  for (let i = 0; i < half; i++) {
    const freq = f32(Math.exp(f32(f32(negLog * i) / half)));
    const arg = f32(f32(t) * freq);
    out[i] = Math.cos(arg);
    out[half + i] = Math.sin(arg);
  }
  return out;
}

/** ConcatTimestepEmbedderND: each scalar embedded with `outdim` channels, concatenated ([d·outdim]). */
export function concatTimestepEmbedderND(values: readonly number[], outdim: number): Float32Array {
  const out = new Float32Array(values.length * outdim);
  for (const [i, v] of values.entries()) out.set(timestepEmbedding(v, outdim), i * outdim);
  return out;
}

/**
 * `vector` = [pooled | embeddings of the family's micro-conditioning inputs] with width adm_in_channels; the
 * per-scalar width is what remains after the pooled feature (SDXL base: (2816 − 1280)/6 = 256).
 */
export function sdxlVector(config: ModelConfig, pooled: Float32Array, micro: SdxlMicroConditioning, negative = false): Tensor {
  const inputs = VECTOR_INPUTS[config.family]?.(micro, negative);
  const width = config.unet.adm_in_channels;
  if (!inputs || width === null) throw new Error(`${config.family} models take no vector conditioning`);
  const scalars = inputs.reduce((n, v) => n + v.length, 0);
  const outdim = (width - pooled.length) / scalars;
  if (!Number.isInteger(outdim)) throw new Error(`vector width ${width} does not fit pooled ${pooled.length} + ${scalars} embeddings`);
  const out = new Float32Array(width);
  out.set(pooled);
  let offset = pooled.length;
  for (const values of inputs) {
    out.set(concatTimestepEmbedderND(values, outdim), offset);
    offset += values.length * outdim;
  }
  return new Tensor([width], out);
}
