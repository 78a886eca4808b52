/**
 * The upscalers this server has, as the lists and the scripts name them: the engine's pixel upscalers (None,
 * Lanczos, Nearest; no model upscalers) and its latent modes.
 */
import { LATENT_UPSCALE_MODES as ENGINE_LATENT_UPSCALE_MODES, PIXEL_UPSCALERS } from '@sdapi/engine';

/** A1111 lists its built-in upscalers with `scale` 4 (the UpscalerData default) and no model. */
export const UPSCALERS = PIXEL_UPSCALERS.map((name: string) => ({ name, model_name: null, model_path: null, model_url: null, scale: 4 }));

/** The engine's latent modes (torch interpolate modes behind the names), in A1111's order. */
export const LATENT_UPSCALE_MODES = Object.keys(ENGINE_LATENT_UPSCALE_MODES);
