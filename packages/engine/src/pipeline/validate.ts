/**
 * Checks generation parameters before any work starts. Errors name the parameter, its value and what is
 * allowed; nothing is clamped or rounded silently.
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import { InvalidParamsError } from '../errors.ts';
import type { Txt2ImgParams } from './types.ts';

/** Largest side we accept; 2048² already needs ~16 GB of activations on a full-size UNet. */
export const MAX_SIDE = 4096;
export const MAX_STEPS = 1000;
export const MAX_IMAGES = 64;

function integer(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidParamsError(name, `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function finite(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidParamsError(name, `${name} must be a finite number, got ${JSON.stringify(value)}`);
  }
}

export function validateTxt2Img(p: Txt2ImgParams, config: ModelConfig): void {
  for (const [name, value] of [['width', p.width], ['height', p.height]] as const) {
    integer(name, value, 8, MAX_SIDE);
    if (value % 8 !== 0) {
      throw new InvalidParamsError(name, `${name} must be a multiple of 8 (the VAE downsamples by 8), got ${value}; nearest valid: ${Math.max(8, Math.round(value / 8) * 8)}`);
    }
  }
  integer('steps', p.steps, 1, MAX_STEPS);
  integer('batch_size', p.batchSize, 1, MAX_IMAGES);
  integer('n_iter', p.nIter, 1, MAX_IMAGES);
  if (p.batchSize * p.nIter > MAX_IMAGES) {
    throw new InvalidParamsError('n_iter', `batch_size × n_iter must be at most ${MAX_IMAGES}, got ${p.batchSize} × ${p.nIter}`);
  }
  finite('cfg_scale', p.cfgScale);
  finite('seed', p.seed);
  finite('subseed', p.subseed);
  finite('subseed_strength', p.subseedStrength);
  const layers = config.text_encoders[0].num_hidden_layers;
  integer('CLIP_stop_at_last_layers', p.options.CLIP_stop_at_last_layers, 1, layers);
  for (const [name, size] of [['sdxl_original_size', p.sdxlOriginalSize], ['sdxl_target_size', p.sdxlTargetSize]] as const) {
    if (size === undefined) continue;
    integer(`${name}.width`, size.width, 1, 1 << 16);
    integer(`${name}.height`, size.height, 1, 1 << 16);
  }
  if (typeof p.prompt !== 'string') throw new InvalidParamsError('prompt', `prompt must be a string, got ${typeof p.prompt}`);
  if (typeof p.negativePrompt !== 'string') throw new InvalidParamsError('negative_prompt', `negative_prompt must be a string, got ${typeof p.negativePrompt}`);
}
