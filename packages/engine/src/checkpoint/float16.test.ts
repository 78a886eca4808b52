import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float16Bytes, floatsToHalves, floatToHalf } from './float16.ts';
import { halfToFloat, halvesToFloat32 } from './safetensors.ts';

test('every finite half and ±Inf round-trips exactly through float', () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs: checked below
    assert.equal(floatToHalf(halfToFloat(h)), h, `0x${h.toString(16)}`);
  }
});

test('rounds to nearest, ties to even, in normal and subnormal range', () => {
  const ulp1 = 2 ** -10; // spacing of halves in [1, 2)
  assert.equal(floatToHalf(1 + ulp1 / 2), 0x3c00, 'tie rounds down to the even 1.0');
  assert.equal(floatToHalf(1 + 1.5 * ulp1), 0x3c02, 'tie rounds up to the even mantissa 2');
  assert.equal(floatToHalf(1 + ulp1 / 2 + 2 ** -23), 0x3c01, 'one float32 ulp above the tie rounds up');
  assert.equal(floatToHalf(2 ** -25), 0x0000, 'half the smallest subnormal ties to 0');
  assert.equal(floatToHalf(1.5 * 2 ** -24), 0x0002, 'subnormal tie 1.5 ulp → 2 (even)');
  assert.equal(floatToHalf(2 ** -26), 0, 'underflow to +0');
  assert.equal(floatToHalf(-(2 ** -26)), 0x8000, 'underflow keeps the sign');
  assert.equal(floatToHalf(2 ** -14 - 2 ** -25), 0x0400, 'largest-subnormal tie carries into the smallest normal');
});

test('overflow gives Inf, NaN stays NaN, signs are kept', () => {
  assert.equal(floatToHalf(65504), 0x7bff);
  assert.equal(floatToHalf(65519), 0x7bff, 'below the rounding boundary');
  assert.equal(floatToHalf(65520), 0x7c00, 'rounds up to Inf');
  assert.equal(floatToHalf(1e9), 0x7c00);
  assert.equal(floatToHalf(-1e9), 0xfc00);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(Number.NaN))));
  assert.equal(floatToHalf(-2), 0xc000);
});

test('float16Bytes packs little-endian', () => {
  assert.deepEqual([...float16Bytes(new Float32Array([1, -2, 65504]))], [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]);
});

test('floatsToHalves rounds every value as floatToHalf does; halvesToFloat32 widens as halfToFloat does', () => {
  const specials = [
    Number.NaN,
    Number.POSITIVE_INFINITY,
    -Number.POSITIVE_INFINITY,
    0,
    -0,
    65504,
    65519,
    65520,
    -65520,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    1.5 * 2 ** -24,
    2 ** -14,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
  ];
  const values = Float32Array.from({ length: 200_000 }, (_, i) => ((Math.sin(i * 12.9898) * 43758.5453) % 1) * 2 ** ((i % 48) - 30));
  values.set(specials);
  const fast = floatsToHalves(values);
  let mismatches = 0;
  for (let i = 0; i < values.length; i++) if (fast[i] !== floatToHalf(values[i])) mismatches++;
  assert.equal(mismatches, 0);
  const widened = halvesToFloat32(fast);
  for (let i = 0; i < fast.length; i++)
    assert.ok(Object.is(widened[i], halfToFloat(fast[i])) || (Number.isNaN(widened[i]) && Number.isNaN(halfToFloat(fast[i]))));
});
