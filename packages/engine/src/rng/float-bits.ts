/**
 * Bit-level helpers for emulating float32 kernels in JavaScript doubles: IEEE-754 bit patterns, C99 hex-float
 * constants, and a correctly rounded float32 fused multiply-add (the AVX2 `vfmadd` that torch's build emits).
 */
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1);
const U64 = new Uint32Array(F64.buffer); // [low word, high word] on little-endian hosts

/** The IEEE-754 bit pattern of `x` rounded to float32. */
export function f32Bits(x: number): number {
  F32[0] = x;
  return U32[0];
}

/** The float32 whose bit pattern is `bits`. */
export function f32FromBits(bits: number): number {
  U32[0] = bits >>> 0;
  return F32[0];
}

/** Parses a C99 hex-float literal such as `-0x1.57bf7808caadep-2` exactly (JS has no hex-float syntax). */
export function hexFloat(literal: string): number {
  const m = /^(-?)0x([0-9a-f]+)(?:\.([0-9a-f]*))?p([+-]?\d+)$/i.exec(literal);
  if (!m) throw new Error(`hexFloat: not a hex-float literal: ${literal}`);
  const frac = m[3] ?? '';
  // At most 53 significant bits, so parseInt and the power-of-two scaling are both exact.
  const v = Number.parseInt(m[2] + frac, 16) * 2 ** (Number(m[4]) - 4 * frac.length);
  return m[1] ? -v : v;
}

/** Moves the double `s` one ulp towards +∞ when `up`, else towards -∞ (s is finite and non-zero). */
function nudge(s: number, up: boolean): number {
  F64[0] = s;
  const away = up === s > 0; // away from zero grows the magnitude bits
  let lo = U64[0] + (away ? 1 : -1);
  let hi = U64[1];
  if (lo > 0xffffffff) (lo = 0), (hi += 1);
  else if (lo < 0) (lo = 0xffffffff), (hi -= 1);
  U64[0] = lo;
  U64[1] = hi;
  return F64[0];
}

/** True when the double `s` lies exactly halfway between two adjacent float32 values. */
function isFloat32Midpoint(s: number): boolean {
  if (Math.abs(s) >= 2 ** -126) {
    F64[0] = s;
    // Within s's binade, float32 keeps 23 of the 52 fraction bits; a midpoint has the 29 dropped bits = 100…0.
    return (U64[0] & 0x1fffffff) === 0x10000000;
  }
  const r = Math.fround(s);
  if (r === s) return false;
  const other = f32FromBits(f32Bits(r) + ((s > r) === (r >= 0) ? 1 : -1));
  return (r + other) / 2 === s;
}

/**
 * Correctly rounded float32 `a * b + c` for float32 inputs (one rounding, like `_mm256_fmadd_ps`).
 * The product is exact in a double, so only the sum can round twice; that matters only when the double sum
 * lands exactly on a float32 midpoint while the exact sum does not, which the TwoSum error term resolves.
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (r === s || !isFloat32Midpoint(s)) return r;
  const bb = s - p;
  const err = p - (s - bb) + (c - bb); // Knuth TwoSum: p + c = s + err exactly
  return err === 0 ? r : Math.fround(nudge(s, err > 0));
}
