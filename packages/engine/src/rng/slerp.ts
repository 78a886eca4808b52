/**
 * A1111's `slerp` for variation seeds (modules/rng.py): spherical interpolation between two noise tensors, with the
 * norms and dot products taken along dim 1 (H of a per-image (C, H, W) tensor, so one angle per channel and column),
 * and a linear fallback when the tensors are nearly parallel. Behaviour from the rng fixture README; the float32
 * rounding of each torch op is mirrored with Math.fround, reductions are summed in double.
 */
import { InvalidParamsError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';

const f = Math.fround;

/** Per-group L2 norms along axis 1 of `t` viewed as [outer, n, inner]; group index = o * inner + r. */
function normsAlongDim1(data: Float32Array, outer: number, n: number, inner: number): Float64Array {
  const norms = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += data[(o * n + k) * inner + r] ** 2;
      norms[o * inner + r] = f(Math.sqrt(acc));
    }
  }
  return norms;
}

/** `(low/|low| * high/|high|).sum(1)` per group, in float32 element ops. */
function dotAlongDim1(low: Float32Array, high: Float32Array, outer: number, n: number, inner: number): Float64Array {
  const lowNorm = normsAlongDim1(low, outer, n, inner);
  const highNorm = normsAlongDim1(high, outer, n, inner);
  const dot = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      const g = o * inner + r;
      let acc = 0;
      for (let k = 0; k < n; k++) {
        const i = (o * n + k) * inner + r;
        acc += f(f(low[i] / lowNorm[g]) * f(high[i] / highNorm[g]));
      }
      dot[g] = f(acc);
    }
  }
  return dot;
}

/**
 * Spherical interpolation from `low` (val = 0) to `high` (val = 1), normalising along dim 1. When the mean cosine
 * exceeds 0.9995 it returns `low * val + high * (1 - val)`: A1111 swaps the weights in that branch, and variation
 * seeds reproduce it, so it is kept.
 *
 * @example
 * const noise = slerp(0.3, randn(seed, [4, 64, 64]), randn(subseed, [4, 64, 64]));
 */
export function slerp(val: number, low: Tensor, high: Tensor): Tensor {
  if (low.shape.length < 2 || low.shape.join() !== high.shape.join()) {
    const shapes = `[${low.shape}] and [${high.shape}]`;
    throw new InvalidParamsError('high', `slerp needs two tensors of one shape with rank >= 2, got ${shapes}`);
  }
  const [outer, n] = low.shape;
  const inner = low.size / (outer * n);
  const dot = dotAlongDim1(low.data, high.data, outer, n, inner);
  const valF = f(val);
  const restF = f(1 - val);
  if (dot.reduce((a, b) => a + b, 0) / dot.length > 0.9995) {
    return low.map((x, i) => f(f(x * valF) + f(high.data[i] * restF)));
  }
  const wLow = new Float64Array(dot.length);
  const wHigh = new Float64Array(dot.length);
  for (let g = 0; g < dot.length; g++) {
    const omega = f(Math.acos(dot[g]));
    const so = f(Math.sin(omega));
    wLow[g] = f(f(Math.sin(f(restF * omega))) / so);
    wHigh[g] = f(f(Math.sin(f(valF * omega))) / so);
  }
  return low.map((x, i) => {
    const g = Math.floor(i / (n * inner)) * inner + (i % inner); // (o, ·, r) → group o * inner + r
    return f(f(wLow[g] * x) + f(wHigh[g] * high.data[i]));
  });
}
