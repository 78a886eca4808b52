/**
 * glibc's float32 `logf`, `sinf` and `cosf` (glibc ≥ 2.28 ships Szabolcs Nagy's ARM optimized-routines code;
 * ported from ARM-software/optimized-routines math/logf.c, logf_data.c, sinf.c, cosf.c, sincosf.h, sincosf_data.c,
 * MIT licence). torch's scalar `normal_fill_16` calls these through `std::log(float)` / `std::cos(float)`; they
 * are not correctly rounded (about 1 value in 70 differs from Math.fround(Math.log(x))), so the scalar kernel
 * needs their exact double-precision evaluation order. Only the branches reachable from randn are kept: logf for
 * normal x > 0, sinf/cosf for |y| < 120. glibc's x86-64 FMA variants give identical float results on every
 * randn input (checked exhaustively over all 2^24 uniforms), so plain double mul+add is used.
 */
import { f32Bits, f32FromBits, hexFloat } from './float-bits.ts';

const LOGF_TABLE = [
  ['0x1.661ec79f8f3bep+0', '-0x1.57bf7808caadep-2'],
  ['0x1.571ed4aaf883dp+0', '-0x1.2bef0a7c06ddbp-2'],
  ['0x1.49539f0f010bp+0', '-0x1.01eae7f513a67p-2'],
  ['0x1.3c995b0b80385p+0', '-0x1.b31d8a68224e9p-3'],
  ['0x1.30d190c8864a5p+0', '-0x1.6574f0ac07758p-3'],
  ['0x1.25e227b0b8eap+0', '-0x1.1aa2bc79c81p-3'],
  ['0x1.1bb4a4a1a343fp+0', '-0x1.a4e76ce8c0e5ep-4'],
  ['0x1.12358f08ae5bap+0', '-0x1.1973c5a611cccp-4'],
  ['0x1.0953f419900a7p+0', '-0x1.252f438e10c1ep-5'],
  ['0x1p+0', '0x0p+0'],
  ['0x1.e608cfd9a47acp-1', '0x1.aa5aa5df25984p-5'],
  ['0x1.ca4b31f026aap-1', '0x1.c5e53aa362eb4p-4'],
  ['0x1.b2036576afce6p-1', '0x1.526e57720db08p-3'],
  ['0x1.9c2d163a1aa2dp-1', '0x1.bc2860d22477p-3'],
  ['0x1.886e6037841edp-1', '0x1.1058bc8a07ee1p-2'],
  ['0x1.767dcf5534862p-1', '0x1.4043057b6ee09p-2'],
].map(([invc, logc]) => ({ invc: hexFloat(invc), logc: hexFloat(logc) }));
const LN2 = hexFloat('0x1.62e42fefa39efp-1');
const [A0, A1, A2] = ['-0x1.00ea348b88334p-2', '0x1.5575b0be00b6ap-2', '-0x1.ffffef20a4123p-2'].map(hexFloat);
const LOGF_OFF = 0x3f330000;

/** glibc `logf` for a positive normal float32 `x` (ULP error 0.82). */
export function logf(x: number): number {
  const ix = f32Bits(x);
  if (ix === 0x3f800000) return 0;
  // x = 2^k z, z in [OFF, 2*OFF); the subinterval index i picks c ≈ z with log(x) = log1p(z/c - 1) + log(c) + k ln2.
  const tmp = (ix - LOGF_OFF) >>> 0;
  const i = (tmp >>> 19) % 16;
  const k = (tmp | 0) >> 23;
  const { invc, logc } = LOGF_TABLE[i];
  const z = f32FromBits(ix - (tmp & 0xff800000));
  const r = z * invc - 1;
  const y0 = logc + k * LN2;
  const r2 = r * r;
  let y = A1 * r + A2;
  y = A0 * r2 + y;
  y = y * r2 + (y0 + r);
  return Math.fround(y);
}

interface SincosTable {
  sign: readonly number[];
  c: readonly number[]; // cosine polynomial c0..c4 (negated in the second table)
  s: readonly number[]; // sine polynomial s1..s3
}
const COS_POLY = ['0x1p0', '-0x1.ffffffd0c621cp-2', '0x1.55553e1068f19p-5', '-0x1.6c087e89a359dp-10', '0x1.99343027bf8c3p-16'].map(
  hexFloat,
);
const SIN_POLY = ['-0x1.555545995a603p-3', '0x1.1107605230bc4p-7', '-0x1.994eb3774cf24p-13'].map(hexFloat);
const SINCOSF_TABLE: readonly SincosTable[] = [
  { sign: [1, -1, -1, 1], c: COS_POLY, s: SIN_POLY },
  { sign: [1, -1, -1, 1], c: COS_POLY.map((v) => -v), s: SIN_POLY },
];
const HPI_INV = hexFloat('0x1.45F306DC9C883p+23'); // 2/π · 2^24 (x86 has no TOINT_INTRINSICS)
const HPI = hexFloat('0x1.921FB54442D18p0');
const abstop12 = (y: number): number => (f32Bits(y) >>> 20) & 0x7ff;
const PIO4F_TOP = abstop12(hexFloat('0x1.921FB6p-1'));
const TINY_TOP = abstop12(2 ** -12);
const LARGE_TOP = abstop12(120);

/** sincosf.h `sinf_poly`: the sine polynomial for even quadrants `n`, the cosine one for odd. */
function sinfPoly(x: number, x2: number, p: SincosTable, n: number): number {
  if ((n & 1) === 0) {
    const x3 = x * x2;
    const s1 = p.s[1] + x2 * p.s[2];
    const x7 = x3 * x2;
    const s = x + x3 * p.s[0];
    return Math.fround(s + x7 * s1);
  }
  const x4 = x2 * x2;
  const c2 = p.c[3] + x2 * p.c[4];
  const c1 = p.c[0] + x2 * p.c[1];
  const x6 = x4 * x2;
  const c = c1 + x4 * p.c[2];
  return Math.fround(c + x6 * c2);
}

/** Shared body of sinf/cosf; `cosShift` = 1 turns the quadrant into cosine's. */
function sincosf(y: number, cosShift: 0 | 1): number {
  const top = abstop12(y);
  if (top < PIO4F_TOP) {
    if (top < TINY_TOP) return cosShift ? 1 : y;
    return sinfPoly(y, y * y, SINCOSF_TABLE[0], cosShift);
  }
  if (!(top < LARGE_TOP)) throw new RangeError(`sinf/cosf: |${y}| >= 120 is outside the ported fast path`);
  // sincosf.h reduce_fast (non-TOINT variant): quadrant from the scaled product's top bits.
  const n = (((y * HPI_INV) | 0) + 0x800000) >> 24;
  const x = y - n * HPI;
  const s = SINCOSF_TABLE[0].sign[n & 3];
  const p = SINCOSF_TABLE[n & 2 ? 1 : 0];
  return sinfPoly(x * s, x * x, p, n ^ cosShift);
}

/** glibc `sinf` for |y| < 120 (ULP error 0.56). */
export function sinf(y: number): number {
  return sincosf(y, 0);
}

/** glibc `cosf` for |y| < 120 (ULP error 0.56). */
export function cosf(y: number): number {
  return sincosf(y, 1);
}
