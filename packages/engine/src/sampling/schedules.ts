/**
 * Sigma schedules: `getSigmas*(n, sigmaMin, sigmaMax, …) → number[]` with the trailing 0, in torch's float32
 * arithmetic (values are float32-exact). The k-diffusion ones port crowsonkb/k-diffusion@ab527a9
 * k_diffusion/sampling.py; the others reproduce the behaviour of A1111's schedulers (modules/sd_schedulers.py,
 * v1.10.1) from their papers: Align Your Steps (Sabour et al. 2024), KL Optimal (ibid., Theorem 3.1),
 * Beta (Lee et al. 2024, arXiv:2407.12173).
 */
import type { DiscreteSchedule } from './discrete-schedule.ts';
import { betaPpf, f32, linspaceF32 } from './numeric.ts';

/** Appends the final sigma 0 (k-diffusion `append_zero`). */
export function appendZero(sigmas: readonly number[]): number[] {
  return [...sigmas, 0];
}

/** Constructs the noise schedule of Karras et al. (2022). (sampling.py get_sigmas_karras) */
export function getSigmasKarras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  const span = f32(minInvRho - maxInvRho);
  const ramp = linspaceF32(0, 1, n);
  return appendZero(ramp.map((r) => f32(f32(f32(maxInvRho) + f32(r * span)) ** rho)));
}

/** Constructs an exponential noise schedule. (sampling.py get_sigmas_exponential) */
export function getSigmasExponential(n: number, sigmaMin: number, sigmaMax: number): number[] {
  return appendZero(linspaceF32(Math.log(sigmaMax), Math.log(sigmaMin), n).map((v) => f32(Math.exp(v))));
}

/** Constructs a polynomial in log sigma noise schedule. (sampling.py get_sigmas_polyexponential) */
export function getSigmasPolyexponential(n: number, sigmaMin: number, sigmaMax: number, rho = 1): number[] {
  const logMin = Math.log(sigmaMin);
  const span = f32(Math.log(sigmaMax) - logMin);
  const ramp = linspaceF32(1, 0, n).map((r) => f32(r ** rho));
  return appendZero(ramp.map((r) => f32(Math.exp(f32(f32(r * span) + f32(logMin))))));
}

/** Constructs a continuous VP noise schedule. (sampling.py get_sigmas_vp) */
export function getSigmasVp(n: number, betaD = 19.9, betaMin = 0.1, epsS = 1e-3): number[] {
  return appendZero(
    linspaceF32(1, epsS, n).map((t) => {
      const exponent = f32(f32(f32(f32(betaD) * f32(t * t)) / 2) + f32(f32(betaMin) * t));
      return f32(Math.sqrt(f32(f32(Math.exp(exponent)) - 1)));
    }),
  );
}

/** A1111 "Uniform": the model's own discretisation, k-diffusion `DiscreteSchedule.get_sigmas(n)`. */
export function getSigmasUniform(n: number, schedule: DiscreteSchedule): number[] {
  return schedule.getSigmas(n);
}

/**
 * A1111 "Normal" (and, with `sgm`, "SGM Uniform"): timesteps evenly spaced between `sigma_to_t(sigmaMax)` and
 * `sigma_to_t(sigmaMin)`; SGM takes n + 1 points and drops the last, as sgm's discretisation does.
 */
export function getSigmasNormal(n: number, sigmaMin: number, sigmaMax: number, schedule: DiscreteSchedule, sgm = false): number[] {
  const start = schedule.sigmaToT(sigmaMax);
  const end = schedule.sigmaToT(sigmaMin);
  const timesteps = sgm ? linspaceF32(start, end, n + 1).slice(0, -1) : linspaceF32(start, end, n);
  return appendZero(timesteps.map((t) => schedule.tToSigma(t)));
}

/** A1111 "SGM Uniform". */
export function getSigmasSgmUniform(n: number, sigmaMin: number, sigmaMax: number, schedule: DiscreteSchedule): number[] {
  return getSigmasNormal(n, sigmaMin, sigmaMax, schedule, true);
}

/** A1111 "Simple": every (T/n)-th table sigma, counted down from the largest. */
export function getSigmasSimple(n: number, schedule: DiscreteSchedule): number[] {
  const table = schedule.sigmas;
  const stride = table.length / n;
  const sigmas: number[] = [];
  for (let i = 0; i < n; i++) sigmas.push(table[table.length - 1 - Math.trunc(i * stride)]);
  return appendZero(sigmas);
}

/**
 * A1111 "DDIM": table sigmas at t = 1, 1 + s, 1 + 2s, … (s = ⌊T/n⌋) in descending order. The count is
 * ⌈(T − 1)/s⌉, which can exceed n (n = 7 gives 8 steps), as in A1111.
 */
export function getSigmasDdim(n: number, schedule: DiscreteSchedule): number[] {
  const table = schedule.sigmas;
  const stride = Math.max(Math.floor(table.length / n), 1);
  const sigmas: number[] = [];
  for (let t = 1; t < table.length; t += stride) sigmas.push(table[t]);
  return appendZero(sigmas.reverse());
}

/**
 * A1111 "KL Optimal" (Sabour et al. 2024, Theorem 3.1): σᵢ = tan((i/n)·atan σmin + (1 − i/n)·atan σmax) for
 * i = 0…n. As in A1111 the schedule ends at σmin, with no trailing 0.
 */
export function getSigmasKlOptimal(n: number, sigmaMin: number, sigmaMax: number): number[] {
  const alphaMin = f32(Math.atan(f32(sigmaMin)));
  const alphaMax = f32(Math.atan(f32(sigmaMax)));
  const sigmas: number[] = [];
  for (let i = 0; i <= n; i++) {
    const frac = f32(i / n);
    sigmas.push(f32(Math.tan(f32(f32(frac * alphaMin) + f32(f32(1 - frac) * alphaMax)))));
  }
  return sigmas;
}

/** Align Your Steps 10-step sigmas (https://research.nvidia.com/labs/toronto-ai/AlignYourSteps/howto.html). */
export const AYS_SIGMAS = {
  sd15: [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029],
  sdxl: [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.38, 0.234, 0.113, 0.029],
} as const;

/** `np.linspace(0, 1, n)` in float64: i·step with the endpoint set exactly. */
function numpyLinspace01(n: number): number[] {
  if (n === 1) return [0];
  const step = 1 / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : i * step));
}

/** AYS `loglinear_interp`: resample a decreasing sigma list to `n` points, linearly in log sigma. */
export function loglinearInterp(sigmas: readonly number[], n: number): number[] {
  const ys = sigmas.map(Math.log).reverse();
  const xs = numpyLinspace01(ys.length);
  const out: number[] = [];
  for (const x of numpyLinspace01(n)) {
    const j = Math.min(
      Math.max(
        xs.findLastIndex((v) => v <= x),
        0,
      ),
      xs.length - 2,
    );
    const y = x >= xs[xs.length - 1] ? ys[ys.length - 1] : ((ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j])) * (x - xs[j]) + ys[j];
    out.push(Math.exp(y));
  }
  return out.reverse();
}

/** A1111 "Align Your Steps": the paper's SD1.5 or SDXL table, log-linearly resampled to n sigmas, + 0. */
export function getSigmasAlignYourSteps(n: number, model: 'sd15' | 'sdxl' = 'sd15'): number[] {
  const table = AYS_SIGMAS[model];
  const sigmas = n === table.length ? [...table] : loglinearInterp(table, n);
  return appendZero(sigmas).map(f32);
}

/**
 * A1111 "Beta" ("Beta Sampling is All You Need", Lee et al. 2024): σ = σmin + ppf(1 − i/(n−1); α, β)·(σmax − σmin),
 * with A1111's defaults α = β = 0.6 (options beta_dist_alpha / beta_dist_beta).
 */
export function getSigmasBeta(n: number, sigmaMin: number, sigmaMax: number, alpha = 0.6, beta = 0.6): number[] {
  const sigmas = numpyLinspace01(n).map((x) => sigmaMin + betaPpf(1 - x, alpha, beta) * (sigmaMax - sigmaMin));
  return appendZero(sigmas).map(f32);
}

/** A1111 `discard_next_to_last_sigma`: drop the penultimate sigma (DPM2, DPM2 a, DPM++ 3M SDE). */
export function discardNextToLastSigma(sigmas: readonly number[]): number[] {
  return [...sigmas.slice(0, -2), sigmas[sigmas.length - 1]];
}
