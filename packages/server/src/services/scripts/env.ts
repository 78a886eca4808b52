/** What scripts see of the server (ScriptEnv): options in force, checkpoints, samplers, upscalers, style names. */

import type { SdService } from '../sd-service.ts';
import { LATENT_UPSCALE_MODES, UPSCALERS } from '../upscalers.ts';
import type { ScriptEnv, ScriptTab } from './types.ts';

export async function scriptEnv(sd: SdService, tab: ScriptTab): Promise<ScriptEnv> {
  return {
    tab,
    catalog: sd.catalog,
    options: sd.options.effective(),
    checkpoints: await sd.generator.listCheckpoints(),
    upscalers: [...UPSCALERS.map((u) => u.name), ...sd.upscalers.names()],
    modelUpscale: sd.upscalers.run,
    latentModes: LATENT_UPSCALE_MODES,
    vaeNames: sd.vaeFiles().map((f) => f.model_name),
    styleNames: sd.styles.list().flatMap((s) => (s.prompt === null && s.negative_prompt === null ? [] : [s.name])),
  };
}
