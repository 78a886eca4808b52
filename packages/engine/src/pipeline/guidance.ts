/**
 * Classifier-free guidance over A1111-style conditioning (sd_samplers_cfg_denoiser.CFGDenoiser and its
 * timesteps twin): every image's AND parts and its uncond go through ONE model call ([cond rows…; uncond
 * rows]), prompt-editing schedules are indexed by the model-call counter, and the parts are combined on the
 * model output (denoised x0 for k-diffusion, eps for the timesteps samplers):
 * out_i = uncond_i + Σ_j (cond_ij − uncond_i)·(w_ij·cfg_scale).
 */
import { Tensor } from '../tensor.ts';
import { type CondSchedule, entryAt, type MultiCond, stackConds } from './conditioning.ts';

export interface GuidanceInputs {
  conds: readonly MultiCond[];
  unconds: readonly CondSchedule[];
  cfgScale: number;
}

/**
 * One batched model evaluation: rows of `xIn` with the matching rows of `context` (and, for SDXL, of the
 * `vector` conditioning `y`), at noise level `level` (σ or t); the first `condRows` rows are conditional (the
 * rest uncond), which ControlNet's "ControlNet is more important" mode needs.
 */
export type RowModel = (xIn: Tensor, context: Tensor, level: number, y: Tensor | null, condRows: number) => Promise<Tensor>;

export interface Guided {
  guided: Tensor;
  uncond: Tensor;
}

/** Wraps `rowModel` into a guided model of x [B, …]; a fresh closure per sampling run (it owns the step clock). */
export function guide(inputs: GuidanceInputs, rowModel: RowModel): (x: Tensor, level: number) => Promise<Guided> {
  let step = 0;
  return async (x, level) => {
    const condRows = inputs.conds.map((c) => c.parts.map((part) => entryAt(part.schedule, step)));
    const uncondRows = inputs.unconds.map((u) => entryAt(u, step));
    const rows = [...condRows.flat(), ...uncondRows];
    const context = stackConds(rows.map((r) => r.cond));
    const y = rows[0].vector ? Tensor.stack(rows.map((r) => r.vector as Tensor)) : null; // SDXL: A1111 catenate_conds per key
    const rowShape = [1, ...x.shape.slice(1)];
    const xIn = Tensor.cat([...condRows.flatMap((parts, i) => parts.map(() => x.get(i).reshape(rowShape))), x]);
    const out = await rowModel(xIn, context, level, y, rows.length - uncondRows.length);
    step += 1;
    return combine(out, inputs, x.shape[0]);
  };
}

/** A1111 combine_denoised: start from the uncond rows, add each weighted part's difference (float32 steps). */
function combine(out: Tensor, inputs: GuidanceInputs, images: number): Guided {
  const per = out.size / out.shape[0];
  const uncondStart = out.shape[0] - images;
  const shape = [images, ...out.shape.slice(1)];
  const uncond = new Tensor(shape, out.data.slice(uncondStart * per));
  const guided = uncond.clone();
  let row = 0;
  inputs.conds.forEach((cond, i) => {
    const u = uncond.data.subarray(i * per, (i + 1) * per);
    for (const part of cond.parts) {
      const scale = Math.fround(part.weight * inputs.cfgScale);
      const c = out.data.subarray(row * per, (row + 1) * per);
      for (let k = 0; k < per; k++) guided.data[i * per + k] += Math.fround(Math.fround(c[k] - u[k]) * scale);
      row += 1;
    }
  });
  return { guided, uncond };
}
