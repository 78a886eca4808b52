/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models",
 * arXiv:2302.04867): multistep data-prediction UniP/UniC with B(h) variants bh1/bh2, on the discrete VP schedule.
 * Ports wl-zhao/UniPC@25acd34 uni_pc.py (MIT): NoiseScheduleVP('discrete'), interpolate_fn,
 * multistep_uni_pc_bh_update, sample(method='multistep'). A1111 runs it with its options uni_pc_variant (bh1),
 * uni_pc_skip_type (time_uniform), uni_pc_order (3), uni_pc_lower_order_final (true) and steps = len(timesteps).
 */
import type { Tensor } from '../tensor.ts';
import { abortable } from './helpers.ts';
import { linspaceF64 } from './numeric.ts';
import type { GuidedEpsModel, TimestepsOptions } from './types.ts';

/** Piecewise-linear y(x) through (xp, yp) (xp ascending), extended linearly past both ends. (interpolate_fn) */
function interpolate(x: number, xp: readonly number[], yp: readonly number[]): number {
  let j = 0;
  while (j < xp.length - 2 && x > xp[j + 1]) j++;
  return yp[j] + ((x - xp[j]) * (yp[j + 1] - yp[j])) / (xp[j + 1] - xp[j]);
}

/** NoiseScheduleVP('discrete'): t_n = (n + 1)/N, log α_t = ½·log ᾱ interpolated linearly in t. */
export function noiseScheduleVp(alphasCumprod: Float32Array) {
  const totalN = alphasCumprod.length;
  const tArray = Array.from({ length: totalN }, (_, n) => (n + 1) / totalN);
  const logAlphaArray = Array.from(alphasCumprod, (a) => 0.5 * Math.log(a));
  const marginalLogMeanCoeff = (t: number) => interpolate(t, tArray, logAlphaArray);
  const marginalLambda = (t: number) => {
    const lmc = marginalLogMeanCoeff(t);
    return lmc - 0.5 * Math.log(1 - Math.exp(2 * lmc));
  };
  /** t of a half-logSNR λ, by interpolation on the flipped (log α, t) table. */
  const inverseLambda = (lamb: number) => {
    const logAlpha = -0.5 * Math.log1p(Math.exp(-2 * lamb));
    return interpolate(logAlpha, [...logAlphaArray].reverse(), [...tArray].reverse());
  };
  return {
    totalN,
    marginalLogMeanCoeff,
    marginalAlpha: (t: number) => Math.exp(marginalLogMeanCoeff(t)),
    marginalStd: (t: number) => Math.sqrt(1 - Math.exp(2 * marginalLogMeanCoeff(t))),
    marginalLambda,
    inverseLambda,
  };
}

type NoiseScheduleVp = ReturnType<typeof noiseScheduleVp>;

export type UniPcSkipType = 'time_uniform' | 'time_quadratic' | 'logSNR';

/** UniPC.get_time_steps: N + 1 continuous times from tT down to t0. */
export function uniPcTimeSteps(ns: NoiseScheduleVp, skipType: UniPcSkipType, tT: number, t0: number, n: number): number[] {
  if (skipType === 'time_uniform') return linspaceF64(tT, t0, n + 1);
  if (skipType === 'time_quadratic') return linspaceF64(Math.sqrt(tT), Math.sqrt(t0), n + 1).map((v) => v * v);
  return linspaceF64(ns.marginalLambda(tT), ns.marginalLambda(t0), n + 1).map(ns.inverseLambda);
}

/** Solves the small dense system A·x = b by Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/** Σ_k rhos[k]·D1s[k] (torch.einsum('k,bkchw->bchw')), or null when there are no differences. */
function weightedSum(rhos: readonly number[], d1s: readonly Tensor[]): Tensor | null {
  if (d1s.length === 0) return null;
  let out = d1s[0].mul(rhos[0]);
  for (let k = 1; k < d1s.length; k++) out = out.add(d1s[k].mul(rhos[k]));
  return out;
}

/** The B(h) coefficient system: rows rᵏ⁻¹ and right-hand side φ_{k}(h)·k!/B(h), k = 1…order. */
function bhSystem(rks: readonly number[], hh: number, order: number, variant: 'bh1' | 'bh2'): { R: number[][]; b: number[]; bH: number } {
  const bH = variant === 'bh1' ? hh : Math.expm1(hh);
  let hPhiK = Math.expm1(hh) / hh - 1;
  let factorial = 1;
  const R: number[][] = [];
  const b: number[] = [];
  for (let i = 1; i <= order; i++) {
    R.push(rks.map((r) => r ** (i - 1)));
    b.push((hPhiK * factorial) / bH);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return { R, b, bH };
}

interface UniPcContext {
  ns: NoiseScheduleVp;
  modelFn: (x: Tensor, t: number) => Promise<Tensor>;
  variant: 'bh1' | 'bh2';
}

/** multistep_uni_pc_bh_update (data prediction): UniP predictor, then UniC corrector unless disabled. */
async function uniPcBhUpdate(
  ctx: UniPcContext,
  x: Tensor,
  modelPrev: readonly Tensor[],
  tPrev: readonly number[],
  t: number,
  order: number,
  useCorrector: boolean,
): Promise<{ x: Tensor; modelT: Tensor | null }> {
  const { ns } = ctx;
  const [tPrev0, modelPrev0] = [tPrev[tPrev.length - 1], modelPrev[modelPrev.length - 1]];
  const lambdaPrev0 = ns.marginalLambda(tPrev0);
  const h = ns.marginalLambda(t) - lambdaPrev0;
  const rks: number[] = [];
  const d1s: Tensor[] = [];
  for (let i = 1; i < order; i++) {
    const rk = (ns.marginalLambda(tPrev[tPrev.length - 1 - i]) - lambdaPrev0) / h;
    rks.push(rk);
    d1s.push(modelPrev[modelPrev.length - 1 - i].sub(modelPrev0).div(rk));
  }
  rks.push(1);
  const hh = -h;
  const { R, b, bH } = bhSystem(rks, hh, order, ctx.variant);
  const alphaT = ns.marginalAlpha(t);
  const xT_ = x.mul(ns.marginalStd(t) / ns.marginalStd(tPrev0)).sub(modelPrev0.mul(alphaT * Math.expm1(hh)));
  const rhosP =
    d1s.length === 0
      ? []
      : order === 2
        ? [0.5]
        : solve(
            R.slice(0, -1).map((row) => row.slice(0, -1)),
            b.slice(0, -1),
          );
  const predRes = weightedSum(rhosP, d1s);
  let xT = predRes ? xT_.sub(predRes.mul(alphaT * bH)) : xT_;
  if (!useCorrector) return { x: xT, modelT: null };
  const rhosC = order === 1 ? [0.5] : solve(R, b);
  const modelT = await ctx.modelFn(xT, t);
  const d1T = modelT.sub(modelPrev0).mul(rhosC[rhosC.length - 1]);
  const corrRes = weightedSum(rhosC.slice(0, -1), d1s);
  xT = xT_.sub((corrRes ? corrRes.add(d1T) : d1T).mul(alphaT * bH));
  return { x: xT, modelT };
}

export interface UniPcOptions extends TimestepsOptions {
  order?: number;
  variant?: 'bh1' | 'bh2';
  skipType?: UniPcSkipType;
  lowerOrderFinal?: boolean;
}

/**
 * UniPC multistep sampling from t = 1 to t = 1/N in `timesteps.length` steps (A1111 uses the timesteps only for
 * their count). The model sees the continuous time as (t − 1/N)·1000, a fractional DDPM timestep.
 */
export async function sampleUniPc(model: GuidedEpsModel, x: Tensor, timesteps: readonly number[], opts: UniPcOptions): Promise<Tensor> {
  const { alphasCumprod, variant = 'bh1', skipType = 'time_uniform', lowerOrderFinal = true, callback } = opts;
  const steps = timesteps.length;
  const order = Math.min(opts.order ?? 3, steps);
  const ns = noiseScheduleVp(alphasCumprod);
  const guarded = abortable(model, opts.signal);
  // data_prediction_fn: x0 = (x − σ_t·ε(x, t_input)) / α_t.
  const modelFn = async (xIn: Tensor, t: number) => {
    const { eps } = await guarded(xIn, (t - 1 / ns.totalN) * 1000);
    return xIn.sub(eps.mul(ns.marginalStd(t))).div(ns.marginalAlpha(t));
  };
  const ctx: UniPcContext = { ns, modelFn, variant };
  const ts = uniPcTimeSteps(ns, skipType, opts.tStart ?? 1, 1 / ns.totalN, steps);
  const tPrev = [ts[0]];
  const modelPrev = [await modelFn(x, ts[0])];
  for (let step = 1; step <= steps; step++) {
    const stepOrder = step < order ? step : lowerOrderFinal ? Math.min(order, steps + 1 - step) : order;
    const update = await uniPcBhUpdate(ctx, x, modelPrev, tPrev, ts[step], stepOrder, step < steps);
    x = update.x;
    const modelX = step < steps ? (update.modelT ?? (await modelFn(x, ts[step]))) : null;
    tPrev.push(ts[step]);
    if (modelX) modelPrev.push(modelX);
    if (tPrev.length > order) tPrev.shift();
    if (modelPrev.length > order) modelPrev.shift();
    const sigma = ns.marginalStd(ts[step]) / ns.marginalAlpha(ts[step]);
    callback?.({ x, i: step - 1, sigma, sigmaHat: sigma, denoised: modelX ?? modelPrev[modelPrev.length - 1] });
  }
  return x;
}
