/**
 * Scalar numerics the schedules and samplers need and Node lacks: torch-style `linspace` (float32 and float64),
 * adaptive Gauss–Kronrod quadrature (stands in for `scipy.integrate.quad` in k-diffusion's LMS coefficients) and
 * the inverse regularised incomplete beta function (`scipy.stats.beta.ppf`, for the Beta scheduler).
 */

export const f32 = Math.fround;

/** Rounds to the nearest float16 value (ties to even), as `tensor.half()`; ±Infinity past 65504. */
export function f16round(v: number): number {
  const a = Math.abs(v);
  if (!Number.isFinite(a) || a === 0) return v;
  const ulp = 2 ** (Math.max(Math.floor(Math.log2(a)), -14) - 10);
  const q = a / ulp;
  const r = q - Math.floor(q) === 0.5 ? 2 * Math.round(q / 2) : Math.round(q);
  const out = r * ulp;
  return Math.sign(v) * (out > 65504 ? Infinity : out);
}

/**
 * `torch.linspace(start, end, n)` (aten RangeFactoriesKernel.cpp linspace_kernel, scalar path): the first half
 * counts up from `start`, the second half down from `end`, every operation rounded to the dtype.
 */
function linspaceWith(round: (v: number) => number, start: number, end: number, n: number): number[] {
  if (n === 1) return [round(start)];
  const s = round(start);
  const e = round(end);
  const step = round((e - s) / (n - 1));
  const halfway = Math.floor(n / 2);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(i < halfway ? round(s + round(step * i)) : round(e - round(step * (n - i - 1))));
  }
  return out;
}

/** `torch.linspace(start, end, n)` in float32 (values are float32-exact numbers). */
export function linspaceF32(start: number, end: number, n: number): number[] {
  return linspaceWith(f32, start, end, n);
}

/** `torch.linspace(start, end, n, dtype=torch.float64)`. */
export function linspaceF64(start: number, end: number, n: number): number[] {
  return linspaceWith((v) => v, start, end, n);
}

// Gauss–Kronrod 7/15 nodes and weights on [-1, 1] (the symmetric half; index 0 is the centre).
const XGK = [0, 0.20778495500789848, 0.4058451513773972, 0.5860872354676911, 0.7415311855993945, 0.8648644233597691, 0.9491079123427585, 0.9914553711208126];
const WGK = [
  0.20948214108472782, 0.20443294007529889, 0.19035057806478542, 0.1690047266392679, 0.14065325971552592, 0.10479001032225019, 0.06309209262997856,
  0.022935322010529224,
];
// Gauss 7-point weights for the Kronrod nodes with even index (0, 2, 4, 6).
const WG = [0.4179591836734694, 0.3818300505051189, 0.27970539148927664, 0.1294849661688697];

function gk15(fn: (x: number) => number, a: number, b: number): { value: number; error: number } {
  const c = (a + b) / 2;
  const h = (b - a) / 2;
  const fc = fn(c);
  let kronrod = fc * WGK[0];
  let gauss = fc * WG[0];
  for (let j = 1; j < XGK.length; j++) {
    const sum = fn(c - h * XGK[j]) + fn(c + h * XGK[j]);
    kronrod += WGK[j] * sum;
    if (j % 2 === 0) gauss += WG[j / 2] * sum;
  }
  return { value: kronrod * h, error: Math.abs((kronrod - gauss) * h) };
}

/**
 * Adaptive Gauss–Kronrod (7, 15) integration of `fn` over [a, b] to `max(epsabs, epsrel·|I|)`, like
 * `scipy.integrate.quad` (QUADPACK qags without extrapolation). Polynomials up to degree 13 are exact at once.
 */
export function quad(fn: (x: number) => number, a: number, b: number, { epsabs = 1.49e-8, epsrel = 1.49e-8, limit = 50 } = {}): number {
  const intervals = [{ a, b, ...gk15(fn, a, b) }];
  for (let iter = 0; iter < limit; iter++) {
    const total = intervals.reduce((s, iv) => s + iv.value, 0);
    const error = intervals.reduce((s, iv) => s + iv.error, 0);
    if (error <= Math.max(epsabs, epsrel * Math.abs(total))) break;
    intervals.sort((p, q) => q.error - p.error);
    const worst = intervals.shift()!;
    const mid = (worst.a + worst.b) / 2;
    intervals.push({ a: worst.a, b: mid, ...gk15(fn, worst.a, mid) }, { a: mid, b: worst.b, ...gk15(fn, mid, worst.b) });
  }
  return intervals.reduce((s, iv) => s + iv.value, 0);
}

// Lanczos approximation (g = 7, n = 9) of ln Γ(x), x > 0; relative error ~1e-15.
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406, 12.507343278686905, -0.13857109526572012,
  9.984369578019572e-6, 1.5056327351493116e-7,
];

export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction for I_x(a, b), evaluated with the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 500; m++) {
    for (const numerator of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b) (the Beta(a, b) CDF). */
export function betainc(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Beta(a, b) quantile (`scipy.stats.beta.ppf(p, a, b)`) by bisection of the monotone CDF to double precision. */
export function betaPpf(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-17; i++) {
    const mid = (lo + hi) / 2;
    if (betainc(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
