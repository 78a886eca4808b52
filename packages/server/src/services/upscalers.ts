/**
 * The upscalers this server has, as the lists and the scripts name them: the engine's pixel upscalers (None,
 * Lanczos, Nearest), the model upscalers found in the data folder (ESRGAN / Real-ESRGAN `.safetensors` in
 * `models/ESRGAN`, `models/RealESRGAN`: Extras, hires fix, the SD upscale script), and the latent modes.
 */
import {
  LATENT_UPSCALE_MODES as ENGINE_LATENT_UPSCALE_MODES,
  isUsableUpscaler,
  type ModelUpscale,
  PIXEL_UPSCALERS,
  type Pixels,
  tileOptions,
} from '@sdapi/engine';
import { ApiError } from './errors.ts';
import type { Generator } from './generator.ts';

/** A1111 lists its built-in upscalers with `scale` 4 (the UpscalerData default) and no model. */
export const UPSCALERS = PIXEL_UPSCALERS.map((name: string) => ({ name, model_name: null, model_path: null, model_url: null, scale: 4 }));

/** The engine's latent modes (torch interpolate modes behind the names), in A1111's order. */
export const LATENT_UPSCALE_MODES = Object.keys(ENGINE_LATENT_UPSCALE_MODES);

/**
 * GET /sdapi/v1/upscalers: the built-in ones first, then the usable model files in the catalog's order (sorted
 * case-insensitively by name, as A1111 orders them); a file that is not an ESRGAN-family model is left out, naming it
 * gives its error. `model_name` is the family's, as A1111's ESRGAN upscaler names its files' entries.
 */
export function upscalerList(generator: Generator) {
  const models = usableModels(generator).map((e) => ({ name: e.name, model_name: 'ESRGAN_4x', model_path: e.path, model_url: null, scale: e.scale }));
  return [...UPSCALERS, ...models];
}

const usableModels = (generator: Generator) => (generator.listUpscalers?.() ?? []).filter(isUsableUpscaler);

/** What an Extras job needs of the model upscalers: which names it may use, and how to run one (in the queue). */
export interface ModelUpscalers {
  names(): string[];
  /** Why `name` (a file found) cannot be used, or undefined. */
  problem(name: string): string | undefined;
  /** Looks at the folders again (a request named a file that was not there at the last look). */
  refresh(): void;
  run: ModelUpscale;
}

/** The generator's model upscalers; `options` gives ESRGAN_tile / ESRGAN_tile_overlap when a job runs (tileOptions). */
export function modelUpscalers(generator: Generator, options: () => Record<string, unknown>): ModelUpscalers {
  const tiles = () => tileOptions(options());
  return {
    names: () => usableModels(generator).map((e) => e.name),
    problem: (name) => (UPSCALERS.some((u) => u.name === name) ? undefined : generator.listUpscalers?.().find((e) => e.name === name)?.error),
    refresh: () => generator.refreshUpscalers?.(),
    run: (name: string, img: Pixels, scale: number, signal?: AbortSignal) => {
      if (!generator.upscaleImage) throw new ApiError('INVALID_PARAMS', `upscaler ${JSON.stringify(name)}: this generator runs no model upscalers`);
      return generator.upscaleImage(name, img, scale, tiles(), signal ? { signal } : undefined);
    },
  };
}
