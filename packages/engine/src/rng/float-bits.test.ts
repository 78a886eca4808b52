import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32Bits, f32FromBits, fma32, hexFloat } from './float-bits.ts';

/** A normal float32 as an exact (integer mantissa, power-of-two exponent) pair. */
function decompose(x: number): [bigint, number] {
  const bits = f32Bits(x);
  const exp = (bits >>> 23) & 0xff;
  const mant = BigInt((bits & 0x7fffff) | (exp ? 0x800000 : 0));
  return [bits >>> 31 ? -mant : mant, Math.max(exp, 1) - 150];
}

/** Reference a*b + c rounded once to float32 (ties to even), in BigInt arithmetic. */
function exactFma32(a: number, b: number, c: number): number {
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  const e = Math.min(ea + eb, ec);
  const v = ((ma * mb) << BigInt(ea + eb - e)) + (mc << BigInt(ec - e));
  const mag = v < 0n ? -v : v;
  const shift = Math.max(mag.toString(2).length - 24, 0);
  let q = mag >> BigInt(shift);
  const rem = mag - (q << BigInt(shift));
  const half = shift > 0 ? 1n << BigInt(shift - 1) : 0n;
  if (shift > 0 && (rem > half || (rem === half && (q & 1n) === 1n))) q += 1n;
  return (v < 0n ? -1 : 1) * Number(q) * 2 ** (e + shift);
}

/** Deterministic xorshift32 so failures reproduce. */
function* xorshift(seed: number): Generator<number> {
  let s = seed >>> 0;
  for (;;) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    yield (s >>>= 0);
  }
}

test('fma32 fixes the double-rounding case that plain fround(a*b + c) gets wrong', () => {
  // a*b = 2^16 - 2^-30 just under half a float ulp of c, whose mantissa is odd, so the double sum is a tie.
  const a = 2 ** 16 + 2 ** -7;
  const b = 1 - 2 ** -23;
  const c = 2 ** 40 + 2 ** 17;
  assert.equal(Math.fround(a * b + c), c + 2 ** 17, 'the naive sum rounds the tie up');
  assert.equal(fma32(a, b, c), c);
  assert.equal(fma32(-a, b, -c), -c);
  assert.equal(exactFma32(a, b, c), c);
});

test('fma32 agrees with an exact BigInt fma on random float32 triples, near-cancelling ones included', () => {
  const rnd = xorshift(12345);
  const randomFloat = (): number => {
    const bits = (rnd.next().value & 0x807fffff) | ((100 + (rnd.next().value % 56)) << 23); // |x| in [2^-27, 2^29)
    return f32FromBits(bits);
  };
  let checked = 0;
  for (let i = 0; i < 20000; i++) {
    const a = randomFloat();
    const b = randomFloat();
    const c = i % 2 ? randomFloat() : -Math.fround(a * b); // every other triple cancels to a tiny residue
    const want = exactFma32(a, b, c);
    if (want === 0 || Math.abs(want) < 2 ** -126) continue; // subnormal results are out of fma32's domain here
    assert.equal(fma32(a, b, c), want, `fma32(${a}, ${b}, ${c})`);
    checked++;
  }
  assert.ok(checked > 15000, `only ${checked} triples checked`);
});

test('hexFloat parses C99 hex-float literals exactly', () => {
  assert.equal(hexFloat('0x1p0'), 1);
  assert.equal(hexFloat('-0x1.8p+1'), -3);
  assert.equal(hexFloat('0x1.62e42fefa39efp-1'), Math.LN2);
  assert.equal(hexFloat('0x1.921FB54442D18p0'), Math.PI / 2);
  assert.throws(() => hexFloat('1.5'), /not a hex-float/);
});

test('f32Bits and f32FromBits round-trip IEEE-754 patterns', () => {
  assert.equal(f32Bits(1), 0x3f800000);
  assert.equal(f32Bits(-2), 0xc0000000);
  assert.equal(f32FromBits(0x3f800001), 1 + 2 ** -23);
});
