/**
 * Classifier-free guidance over A1111-style conditioning (sd_samplers_cfg_denoiser.CFGDenoiser): every
 * image's AND parts and its uncond go through ONE UNet call ([cond rows…; uncond rows]), prompt-editing
 * schedules are indexed by the model-call counter, and the parts are combined on the denoised prediction:
 * denoised_i = uncond_i + Σ_j (cond_ij − uncond_i)·(w_ij·cfg_scale).
 */
import { compVisDenoiser, type Prediction } from '../sampling/denoiser.ts';
import type { DiscreteSchedule } from '../sampling/discrete-schedule.ts';
import type { Denoiser } from '../sampling/types.ts';
import { Tensor } from '../tensor.ts';
import { type CondSchedule, condAt, type MultiCond, stackConds } from './conditioning.ts';
import type { LoadedModel } from './model.ts';

export interface GuidanceInputs {
  conds: readonly MultiCond[];
  unconds: readonly CondSchedule[];
  cfgScale: number;
}

/** The sampler-facing denoiser; `calls` counts model evaluations (the prompt-schedule clock). */
export function guidedDenoiser(model: LoadedModel, schedule: DiscreteSchedule, prediction: Prediction, inputs: GuidanceInputs): Denoiser {
  let context: Tensor | null = null;
  const inner = compVisDenoiser((xIn, t) => model.unet(xIn, t, context as Tensor), schedule, prediction);
  let step = 0;
  return async (x, sigma) => {
    const images = x.shape[0];
    const condRows = inputs.conds.map((c) => c.parts.map((part) => condAt(part.schedule, step)));
    const uncondRows = inputs.unconds.map((u) => condAt(u, step));
    const rows = [...condRows.flat(), ...uncondRows];
    context = stackConds(rows);
    const xIn = Tensor.cat([...condRows.flatMap((parts, i) => parts.map(() => x.get(i).reshape([1, ...x.shape.slice(1)]))), x]);
    const out = await inner(xIn, sigma);
    step += 1;
    return combineDenoised(out, inputs, images);
  };
}

/** A1111 combine_denoised: start from the uncond rows, add each weighted part's difference. */
function combineDenoised(out: Tensor, inputs: GuidanceInputs, images: number): Tensor {
  const per = out.size / out.shape[0];
  const uncondStart = out.shape[0] - images;
  const denoised = new Float32Array(out.data.subarray(uncondStart * per));
  let row = 0;
  inputs.conds.forEach((cond, i) => {
    const uncond = out.data.subarray((uncondStart + i) * per, (uncondStart + i + 1) * per);
    for (const part of cond.parts) {
      const scale = Math.fround(part.weight * inputs.cfgScale);
      const c = out.data.subarray(row * per, (row + 1) * per);
      for (let k = 0; k < per; k++) denoised[i * per + k] += Math.fround(Math.fround(c[k] - uncond[k]) * scale);
      row += 1;
    }
  });
  return new Tensor([images, ...out.shape.slice(1)], denoised);
}
