/**
 * One lane of `log256_ps` and `sincos256_ps` from avx_mathfun.h (Giovanni Garberoglio, after Julien Pommier's
 * sse_mathfun.h; zlib licence), as shipped in pytorch aten/src/ATen/native/cpu/avx_mathfun.h and used by
 * `normal_fill_16_AVX2`. Every float32 operation is rounded with Math.fround. torch's x86-64 wheels are compiled with
 * FMA contraction, so every multiply that feeds an add becomes one `vfmadd` (`fma32`); this contraction pattern is
 * what reproduces the torch 1.13 fixtures bit for bit (plain mul+add differs in ~0.3% of values).
 */
import { f32Bits, f32FromBits, fma32 } from './float-bits.ts';

const f = Math.fround;

// Cephes logf constants (avx_mathfun.h _ps256_cephes_log_*), rounded to float32 as the C initialisers are.
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);
const SQRTHF = f(0.707106781186547524);
const HALF_BITS = f32Bits(0.5);

/** avx_mathfun `log256_ps` for one lane; `x` is a positive normal float32 (torch passes 1 - u, u in [0, 1)). */
export function log256Ps(x0: number): number {
  const bits = f32Bits(x0);
  let e = f((bits >>> 23) - 0x7f + 1); // exponent, +1 because the mantissa is rescaled into [0.5, 1)
  let x = f32FromBits((bits & ~0x7f800000) | HALF_BITS);
  const mask = x < SQRTHF; // if (x < SQRTHF) { e -= 1; x = x + x - 1 } else { x = x - 1 }
  const tmp = mask ? x : 0;
  x = f(x - 1);
  if (mask) e = f(e - 1);
  x = f(x + tmp);
  const z = f(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fma32(y, x, LOG_P[k]); // Horner, contracted
  y = f(y * x);
  y = fma32(y, z, f(e * LOG_Q1)); // y*z fuses into the "+ e*q1" add
  y = fma32(-z, 0.5, y); // y - z*0.5 (z*0.5 is exact, so fused or not gives the same bits)
  x = f(x + y);
  return fma32(e, LOG_Q2, x);
}

const MINUS_DP1 = f(-0.78515625);
const MINUS_DP2 = f(-2.4187564849853515625e-4);
const MINUS_DP3 = f(-3.77489497744594108e-8);
const SINCOF = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COSCOF = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);
const FOPI = f(1.27323954473516); // 4 / π

/** Reusable result of `sincos256Ps` (avoids allocating per element). */
export const sincosOut = { sin: 0, cos: 0 };

/** avx_mathfun `sincos256_ps` for one lane (Cephes sinf/cosf with octant reduction); writes `sincosOut`. */
export function sincos256Ps(theta: number): void {
  let x = Math.abs(theta);
  let j = Math.trunc(f(x * FOPI)); // _mm256_cvttps_epi32
  j = (j + 1) & ~1; // j = (j + 1) & ~1, as Cephes does
  const y = f(j);
  const sinNegative = (theta < 0) !== ((j & 4) !== 0);
  const cosNegative = (~(j - 2) & 4) !== 0;
  const usePolySin = (j & 2) === 0; // octants where sin uses the sine polynomial
  // "Extended precision modular arithmetic": x = ((x - y*DP1) - y*DP2) - y*DP3, each step one fma.
  x = fma32(y, MINUS_DP1, x);
  x = fma32(y, MINUS_DP2, x);
  x = fma32(y, MINUS_DP3, x);
  const z = f(x * x);
  let yc = fma32(COSCOF[0], z, COSCOF[1]);
  yc = fma32(yc, z, COSCOF[2]);
  yc = f(yc * z);
  yc = fma32(yc, z, -f(z * 0.5)); // the final *z fuses into the subtraction (vfmsub)
  yc = f(yc + 1);
  let ys = fma32(SINCOF[0], z, SINCOF[1]);
  ys = fma32(ys, z, SINCOF[2]);
  ys = f(ys * z);
  ys = fma32(ys, x, x);
  const s = usePolySin ? ys : yc;
  const c = usePolySin ? yc : ys;
  sincosOut.sin = sinNegative ? -s : s;
  sincosOut.cos = cosNegative ? -c : c;
}
