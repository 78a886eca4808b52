/**
 * The DDPM schedule buffers that ldm saves with every SD1/SD2 checkpoint (`DDPM.register_schedule`, beta_schedule
 * "linear", v_posterior 0, computed in float64) and the one SDXL saves (sgm `DiscreteDenoiser.sigmas`, ascending).
 * Formulas are the DDPM paper's (Ho et al. 2020, eqs. 4, 6–7) as the ldm code writes them.
 */
import type { ModelConfig, ScheduleConfig } from './config.ts';

/** ldm "linear": betas = linspace(√start, √end, T)², alphas_cumprod = cumprod(1 − betas). */
export function linearAlphasCumprod(s: ScheduleConfig): { betas: Float64Array; alphasCumprod: Float64Array } {
  const T = s.num_train_timesteps;
  const a = Math.sqrt(s.linear_start);
  const b = Math.sqrt(s.linear_end);
  const betas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  let cumprod = 1;
  for (let t = 0; t < T; t++) {
    const root = T === 1 ? a : a + ((b - a) * t) / (T - 1);
    betas[t] = root * root;
    cumprod *= 1 - betas[t];
    alphasCumprod[t] = cumprod;
  }
  return { betas, alphasCumprod };
}

const map = (n: number, f: (t: number) => number) => Float64Array.from({ length: n }, (_, t) => f(t));

/** [name, values] for every schedule buffer the family's checkpoints carry. */
export function scheduleBuffers(config: Pick<ModelConfig, 'family' | 'schedule'>): Array<[string, Float64Array]> {
  const { betas, alphasCumprod: ac } = linearAlphasCumprod(config.schedule);
  const T = betas.length;
  if (config.family === 'sdxl' || config.family === 'sdxl-refiner') {
    return [['denoiser.sigmas', map(T, (t) => Math.sqrt((1 - ac[t]) / ac[t]))]];
  }
  const prev = map(T, (t) => (t === 0 ? 1 : ac[t - 1]));
  const posteriorVariance = map(T, (t) => (betas[t] * (1 - prev[t])) / (1 - ac[t]));
  return [
    ['betas', betas],
    ['alphas_cumprod', ac],
    ['alphas_cumprod_prev', prev],
    ['sqrt_alphas_cumprod', map(T, (t) => Math.sqrt(ac[t]))],
    ['sqrt_one_minus_alphas_cumprod', map(T, (t) => Math.sqrt(1 - ac[t]))],
    ['log_one_minus_alphas_cumprod', map(T, (t) => Math.log(1 - ac[t]))],
    ['sqrt_recip_alphas_cumprod', map(T, (t) => Math.sqrt(1 / ac[t]))],
    ['sqrt_recipm1_alphas_cumprod', map(T, (t) => Math.sqrt(1 / ac[t] - 1))],
    ['posterior_variance', posteriorVariance],
    // Clipped because the variance is 0 at t = 0 (log would be −∞).
    ['posterior_log_variance_clipped', map(T, (t) => Math.log(Math.max(posteriorVariance[t], 1e-20)))],
    ['posterior_mean_coef1', map(T, (t) => (betas[t] * Math.sqrt(prev[t])) / (1 - ac[t]))],
    ['posterior_mean_coef2', map(T, (t) => ((1 - prev[t]) * Math.sqrt(1 - betas[t])) / (1 - ac[t]))],
  ];
}
