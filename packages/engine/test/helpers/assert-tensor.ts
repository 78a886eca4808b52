/**
 * llm.c-style tensor comparison: prints the first values, the max abs difference and where it is, then
 * asserts `|a - e| <= atol + rtol * |e|` everywhere.
 */
import assert from 'node:assert/strict';

export interface CloseOptions {
  atol?: number;
  rtol?: number;
  label?: string;
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): { max: number; at: number } {
  let max = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= max)) {
      max = d;
      at = i;
    }
  }
  return { max, at };
}

export function assertCloseTensor(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 1e-5, rtol = 0, label = 'tensor' }: CloseOptions = {}): number {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} != expected ${expected.length}`);
  const { max, at } = maxAbsDiff(actual, expected);
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) maxRef = Math.max(maxRef, Math.abs(expected[i]));
  const head = (a: ArrayLike<number>) => Array.from({ length: Math.min(5, a.length) }, (_, i) => a[i].toFixed(6)).join(', ');
  console.log(`# ${label}: max abs diff ${max.toExponential(3)} at ${at} (max |ref| ${maxRef.toExponential(3)}; atol ${atol}, rtol ${rtol})`);
  let bad = -1;
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
      bad = i;
      break;
    }
  }
  assert.ok(bad < 0, `${label}: mismatch at ${bad}: actual ${actual[bad]} expected ${expected[bad]}\n  actual   [${head(actual)}]\n  expected [${head(expected)}]`);
  return max;
}
