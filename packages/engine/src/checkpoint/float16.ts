/**
 * float32 → IEEE-754 binary16 with round-to-nearest-even (what torch's `.half()` does), for writing F16
 * safetensors. The reverse (exact widening) is `halfToFloat` in safetensors.ts.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary16 bits of `x` rounded to float32 first, then to the nearest half (ties to even); overflow → ±Inf. */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf stays Inf, NaN stays a (quiet) NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to ±0
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa correctly bumps the exponent (and 65520+ becomes Inf).
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** `value >> shift`, rounded to nearest, ties to even. */
function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && kept & 1) ? kept + 1 : kept;
}

/** Packs float32 values as little-endian F16 bytes (every platform Node runs on is little-endian). */
export function float16Bytes(values: Float32Array): Uint8Array {
  const halves = floatsToHalves(values);
  return new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength);
}

/**
 * Many float32 values → binary16 bits, rounded as `floatToHalf` rounds (to nearest, ties to even), in one loop over
 * the float32 bits: LoRA merges convert hundreds of millions of weights, where a call per value cost ~10× more.
 */
export function floatsToHalves(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) {
    const bits = words[i];
    const sign = (bits >>> 16) & 0x8000;
    const exp = (bits >>> 23) & 0xff;
    const mant = bits & 0x7fffff;
    const e = exp - 112; // rebias 127 → 15
    if (exp === 0xff) out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
    else if (e >= 0x1f) out[i] = sign | 0x7c00;
    else if (e <= 0) out[i] = e < -10 ? sign : sign | roundShift(mant | 0x800000, 14 - e);
    else {
      // Round the 13 dropped mantissa bits to nearest, ties to even; a carry bumps the exponent (65520+ → Inf).
      const rest = mant & 0x1fff;
      const kept = (e << 10) | (mant >>> 13);
      out[i] = sign | (rest > 0x1000 || (rest === 0x1000 && kept & 1) ? kept + 1 : kept);
    }
  }
  return out;
}
