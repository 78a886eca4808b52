/**
 * `script_args` for A1111's img2img-only scripts (spec a1111-api.md §5.6): SD upscale, Loopback, Poor man's
 * outpainting and Outpainting mk2, with names instead of positions. The first argument of SD upscale and
 * Outpainting mk2 is a UI text placeholder that the scripts ignore ("").
 */
import type { ScriptSelection } from './xyz-plot.ts';

export type OutpaintDirection = 'left' | 'right' | 'up' | 'down';
const ALL_DIRECTIONS: OutpaintDirection[] = ['left', 'right', 'up', 'down'];

export interface SdUpscaleOptions {
  /** Tile overlap in px (default 64). */
  overlap?: number;
  /** An upscaler name of GET /upscalers or its index (default "None": no enlargement before the tiles). */
  upscaler?: string | number;
  /** Default 2. */
  scaleFactor?: number;
}

/** @example await sd.img2img({ init_images: [b64], width: 512, height: 512, denoising_strength: 0.3, ...sdUpscale({ upscaler: 'Lanczos' }) }); */
export function sdUpscale(opts: SdUpscaleOptions = {}): ScriptSelection {
  return { script_name: 'SD upscale', script_args: ['', opts.overlap ?? 64, opts.upscaler ?? 'None', opts.scaleFactor ?? 2.0] };
}

export interface LoopbackOptions {
  /** Default 4. */
  loops?: number;
  /** Strength at the last loop (default 0.5); the first uses the request's denoising_strength. */
  finalDenoisingStrength?: number;
  curve?: 'Aggressive' | 'Linear' | 'Lazy';
  appendInterrogation?: 'None' | 'CLIP' | 'DeepBooru';
}

export function loopback(opts: LoopbackOptions = {}): ScriptSelection {
  return {
    script_name: 'Loopback',
    script_args: [opts.loops ?? 4, opts.finalDenoisingStrength ?? 0.5, opts.curve ?? 'Linear', opts.appendInterrogation ?? 'None'],
  };
}

export interface PoorMansOutpaintingOptions {
  /** Default 128. */
  pixels?: number;
  /** Default 4. */
  maskBlur?: number;
  /** 0 fill, 1 original, 2 latent noise, 3 latent nothing (default 0). */
  inpaintingFill?: 0 | 1 | 2 | 3;
  direction?: OutpaintDirection[];
}

export function poorMansOutpainting(opts: PoorMansOutpaintingOptions = {}): ScriptSelection {
  return {
    script_name: "Poor man's outpainting",
    script_args: [opts.pixels ?? 128, opts.maskBlur ?? 4, opts.inpaintingFill ?? 0, opts.direction ?? ALL_DIRECTIONS],
  };
}

export interface OutpaintingMk2Options {
  pixels?: number;
  maskBlur?: number;
  direction?: OutpaintDirection[];
  noiseQ?: number;
  colorVariation?: number;
}

/** Outpainting mk2 (sdapi fills the new strips with its own matched noise, so pixels differ from A1111). */
export function outpaintingMk2(opts: OutpaintingMk2Options = {}): ScriptSelection {
  return {
    script_name: 'Outpainting mk2',
    script_args: ['', opts.pixels ?? 128, opts.maskBlur ?? 8, opts.direction ?? ALL_DIRECTIONS, opts.noiseQ ?? 1.0, opts.colorVariation ?? 0.05],
  };
}
