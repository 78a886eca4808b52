/** Pixel agreement with an A1111 oracle image (the acceptance bounds: mean abs error ≤ 0.25, ≥ 99% within ±3). */
export function pixelAgreement(actual: Uint8Array, expected: Uint8Array): { mae: number; within3: number } {
  let sum = 0;
  let close = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    sum += d;
    if (d <= 3) close += 1;
  }
  return { mae: sum / expected.length, within3: close / expected.length };
}
