/**
 * ControlNet units inside the sampling loop (spec controlnet-api.md §5–§6, in our own words; the network is
 * lllyasviel/ControlNet cldm.py, Apache-2.0; the unit semantics are sd-webui-controlnet v1.1.455's): per UNet
 * evaluation each active unit runs its ControlNet on the same rows, its residuals are scaled (Balanced: the
 * weight; the two "more important" modes: soft injection `w·0.825^(12−i)`), masked to cond rows for "ControlNet is
 * more important" (and shuffle models), and the units' residuals are summed into one controlled-UNet call.
 */
import { Tensor } from '../tensor.ts';
import type { ControlNetModel } from './controlnet-model.ts';

export type ControlMode = 'Balanced' | 'My prompt is more important' | 'ControlNet is more important';
export const CONTROL_MODES: readonly ControlMode[] = ['Balanced', 'My prompt is more important', 'ControlNet is more important'];

/** One unit, resolved: a loaded model, a hint tensor, and its schedule. */
export interface ControlUnit {
  model: ControlNetModel;
  /** [1, C, h, w] in [0, 1] at the generation size (h, w = first-pass size floored to multiples of 8). */
  hint: Tensor;
  weight: number;
  guidanceStart: number;
  guidanceEnd: number;
  controlMode: ControlMode;
  /** Replaces the scale list entirely when given (§6.2). */
  advancedWeighting?: readonly number[] | null;
  /** effective_region_mask: a [0, 1] plane (first channel / 255) that multiplies every scaled residual (§6.6). */
  regionMask?: { width: number; height: number; data: Float32Array } | null;
  /** Hires fix: the hint at the hires size (§4.1), which pass(es) the unit acts in, forced soft injection (§6.2). */
  hrHint?: Tensor | null;
  hrOption?: HrOption;
  /** Module name contains `canny` or `mlsd`: Balanced becomes soft injection in the hires pass. */
  softInHires?: boolean;
}

/** sd-webui-controlnet `hr_option`: with hires fix, which passes a unit acts in. */
export type HrOption = 'Both' | 'Low res only' | 'High res only';

/** Which sampling pass a hook serves: a job without hires fix, or hires fix's first (low res) or second (high res). */
export type ControlPass = 'only' | 'low' | 'high';

/** §6.6: `Low res only` skips the hires pass, `High res only` the first pass; without hires fix every unit acts. */
export function unitInPass(unit: Pick<ControlUnit, 'hrOption'>, pass: ControlPass): boolean {
  if (pass === 'low') return unit.hrOption !== 'High res only';
  if (pass === 'high') return unit.hrOption !== 'Low res only';
  return true;
}

/** Soft-injection base: the extension's 13-entry list `0.825^(12−i)`, truncated to the model's residual count. */
const SOFT_BASE = 0.825;

/** §6.2: the per-residual scales of one unit. */
export function controlScales(unit: Pick<ControlUnit, 'weight' | 'controlMode' | 'advancedWeighting'>, count: number): number[] {
  if (unit.advancedWeighting) {
    if (unit.advancedWeighting.length < count)
      throw new RangeError(`advanced_weighting has ${unit.advancedWeighting.length} entries; the model has ${count} residuals`);
    return unit.advancedWeighting.slice(0, count);
  }
  if (unit.controlMode === 'Balanced') return Array<number>(count).fill(unit.weight);
  return Array.from({ length: count }, (_, i) => unit.weight * SOFT_BASE ** (12 - i));
}

/**
 * §6.5: A1111's `cfg_denoiser` callback sees `sampling_step / sampling_steps`; a unit acts iff
 * start ≤ pct ≤ end (both inclusive).
 */
export function unitActive(unit: Pick<ControlUnit, 'guidanceStart' | 'guidanceEnd'>, samplingStep: number, samplingSteps: number): boolean {
  const pct = samplingStep / samplingSteps;
  return !(pct < unit.guidanceStart || pct > unit.guidanceEnd);
}

/**
 * Residual i × scales[i]; rows ≥ `condRows` zeroed when `condOnly` (uncond rows get no control); with
 * `globalAveragePooling` each residual is replaced by its per-channel spatial mean (shuffle models).
 */
export function scaleResiduals(
  residuals: readonly Tensor[],
  scales: readonly number[],
  { condRows, condOnly, globalAveragePooling = false }: { condRows: number; condOnly: boolean; globalAveragePooling?: boolean },
): Tensor[] {
  return residuals.map((r, i) => {
    const [n, c, h, w] = r.shape;
    const out = new Float32Array(r.size);
    const plane = h * w;
    for (let row = 0; row < n; row++) {
      const mask = condOnly && row >= condRows ? 0 : 1;
      for (let ch = 0; ch < c; ch++) {
        const base = (row * c + ch) * plane;
        if (globalAveragePooling) {
          let sum = 0;
          for (let k = 0; k < plane; k++) sum += r.data[base + k];
          out.fill(Math.fround(Math.fround(sum / plane) * scales[i]) * mask, base, base + plane);
        } else {
          for (let k = 0; k < plane; k++) out[base + k] = Math.fround(r.data[base + k] * scales[i]) * mask;
        }
      }
    }
    return new Tensor(r.shape, out);
  });
}

/** §6.4: units are summed residual-wise in unit order (`later + earlier`). */
export function addResiduals(total: readonly Tensor[] | null, next: readonly Tensor[]): Tensor[] {
  if (!total) return [...next];
  if (total.length !== next.length) throw new Error(`cannot sum ControlNets with ${total.length} and ${next.length} residuals (different base architectures)`);
  return next.map((r, i) => r.add(total[i]));
}

/** The UNet call a hook wraps (context and SDXL vector already bound): rows x [N, …] at timesteps [N], optional residuals. */
export type ControlledUnet = (x: Tensor, timesteps: readonly number[], control: readonly Tensor[] | null) => Promise<Tensor>;

/**
 * The per-run hook: owns A1111's `sampling_step` clock (set by the sampler callback after each step, read before
 * each evaluation) and computes the summed residuals for one UNet evaluation.
 */
export class ControlHook {
  /** A1111 `state.sampling_step`: 0 when sampling starts, then the index of the last completed step. */
  samplingStep = 0;

  constructor(
    readonly units: readonly ControlUnit[],
    /** A1111 `state.sampling_steps` (txt2img: the request's steps). */
    readonly samplingSteps: number,
    /**
     * Which pass this run is. The extension tells the passes apart by comparing the latent height with the two
     * hints' heights; the pipeline knows it, which is the same for every size where the passes differ.
     */
    readonly pass: ControlPass = 'only',
  ) {}

  /** The sampler callback of step `i` (k-diffusion `callback({i})`): A1111 sets `sampling_step = i`. */
  onStep(i: number): void {
    this.samplingStep = i;
  }

  /** Summed residuals for this evaluation (null when no unit is active); rows < `condRows` are cond rows. */
  async residuals(x: Tensor, timesteps: readonly number[], context: Tensor, y: Tensor | null, condRows: number): Promise<Tensor[] | null> {
    let total: Tensor[] | null = null;
    for (const unit of this.units) {
      if (!unitInPass(unit, this.pass) || !unitActive(unit, this.samplingStep, this.samplingSteps)) continue;
      const inChannels = unit.model.config.unet.in_channels;
      const xc = x.shape[1] > inChannels ? sliceChannels(x, inChannels) : x; // inpainting UNets: the ControlNet sees the latent only
      const high = this.pass === 'high';
      const hint = high ? unit.hrHint : unit.hint;
      if (!hint) throw new Error('ControlNet unit has no hint at the hires size');
      const raw = await unit.model.run(xc, hint, timesteps, context, y);
      const gap = unit.model.config.global_average_pooling;
      const condOnly = unit.controlMode === 'ControlNet is more important' || gap;
      // §6.2: canny/mlsd units are soft-injected in the hires pass even when Balanced (the scales only, not the rows).
      const mode = high && unit.softInHires && unit.controlMode === 'Balanced' ? 'My prompt is more important' : unit.controlMode;
      const scaled = scaleResiduals(raw, controlScales({ ...unit, controlMode: mode }, raw.length), { condRows, condOnly, globalAveragePooling: gap });
      total = addResiduals(total, unit.regionMask ? scaled.map((r) => maskResidual(r, unit.regionMask as NonNullable<ControlUnit['regionMask']>)) : scaled);
    }
    return total;
  }

  /** One UNet evaluation: with an active unit it goes through the controlled UNet with the summed residuals. */
  async run(unet: ControlledUnet, x: Tensor, timesteps: readonly number[], context: Tensor, y: Tensor | null, condRows: number): Promise<Tensor> {
    return unet(x, timesteps, await this.residuals(x, timesteps, context, y, condRows));
  }
}

/**
 * torch.nn.functional.interpolate(mode='bilinear', align_corners=False) of one plane (half-pixel centres, edge
 * clamped, no antialias), as the extension resizes the region mask to each residual.
 */
export function resizeBilinear(src: { width: number; height: number; data: Float32Array }, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), src.height - 1);
    const y1 = Math.min(y0 + 1, src.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(Math.floor(fx), src.width - 1);
      const x1 = Math.min(x0 + 1, src.width - 1);
      const wx = fx - x0;
      const at = (yy: number, xx: number) => src.data[yy * src.width + xx];
      out[y * width + x] = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
    }
  }
  return out;
}

/** A residual [N, C, h, w] times the region mask resized to h × w. */
function maskResidual(r: Tensor, mask: NonNullable<ControlUnit['regionMask']>): Tensor {
  const [n, c, h, w] = r.shape;
  const plane = resizeBilinear(mask, w, h);
  const out = new Float32Array(r.size);
  for (let k = 0; k < n * c; k++) for (let p = 0; p < h * w; p++) out[k * h * w + p] = r.data[k * h * w + p] * plane[p];
  return new Tensor(r.shape, out);
}

/** x[:, :c] of an NCHW tensor. */
function sliceChannels(x: Tensor, c: number): Tensor {
  const [n, cin, h, w] = x.shape;
  const out = new Float32Array(n * c * h * w);
  for (let row = 0; row < n; row++) out.set(x.data.subarray(row * cin * h * w, (row * cin + c) * h * w), row * c * h * w);
  return new Tensor([n, c, h, w], out);
}
