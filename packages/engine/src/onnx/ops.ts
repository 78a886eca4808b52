/**
 * torch.nn.functional-style helpers that emit ONNX nodes (opset 17 + com.microsoft). Each documents the torch
 * call it matches; shapes are propagated so callers can assert and comment them.
 */
import type { Dim, Shape, Value } from './graph.ts';

export const MS_DOMAIN = 'com.microsoft';

function broadcast(a: Shape, b: Shape): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    else if (typeof da === 'string' || typeof db === 'string') out.push(typeof da === 'string' ? da : db);
    else throw new Error(`cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
  }
  return out;
}

function scalar(x: Value, v: number): Value {
  return x.graph.constant([v], []);
}

function binary(op: string, a: Value, b: Value | number): Value {
  const bv = typeof b === 'number' ? scalar(a, b) : b;
  return a.graph.node(op, [a, bv], {}, [broadcast(a.shape, bv.shape)])[0];
}

/** `a + b` with broadcasting. */
export const add = (a: Value, b: Value | number): Value => binary('Add', a, b);
export const sub = (a: Value, b: Value | number): Value => binary('Sub', a, b);
export const mul = (a: Value, b: Value | number): Value => binary('Mul', a, b);
export const div = (a: Value, b: Value | number): Value => binary('Div', a, b);

function unary(op: string, x: Value): Value {
  return x.graph.node(op, [x], {}, [x.shape])[0];
}

export const sigmoid = (x: Value): Value => unary('Sigmoid', x);
export const cos = (x: Value): Value => unary('Cos', x);
export const sin = (x: Value): Value => unary('Sin', x);
export const relu = (x: Value): Value => unary('Relu', x);
export const tanh = (x: Value): Value => unary('Tanh', x);

/** torch.nn.functional.silu: x·σ(x). */
export function silu(x: Value): Value {
  return mul(x, sigmoid(x));
}

/** torch.nn.functional.gelu (approximate='none'): 0.5·x·(1 + erf(x/√2)); ORT fuses this pattern. */
export function gelu(x: Value): Value {
  const erf = unary('Erf', div(x, Math.SQRT2));
  return mul(mul(x, 0.5), add(erf, 1));
}

/** CLIP's quick_gelu: x·σ(1.702·x). */
export function quickGelu(x: Value): Value {
  return mul(x, sigmoid(mul(x, 1.702)));
}

/** torch.matmul. */
export function matmul(a: Value, b: Value): Value {
  const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return a.graph.node('MatMul', [a, b], {}, [[...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]]])[0];
}

/** torch.nn.functional.linear(x, weight [out, in], bias [out]): x·Wᵀ + b over the last axis. */
export function linear(x: Value, weight: Value, bias: Value | null): Value {
  const wT = transpose(weight, [1, 0]); // [out, in] → [in, out]; an initializer, so ORT folds it at load
  const y = matmul(x, wT);
  return bias ? add(y, bias) : y;
}

/** torch.nn.functional.conv2d(x, weight [out, in, k, k], bias, stride, padding); `pads` as ONNX [top, left, bottom, right]. */
export function conv2d(
  x: Value,
  weight: Value,
  bias: Value | null,
  { stride = 1, padding = 0, pads }: { stride?: number; padding?: number; pads?: number[] } = {},
): Value {
  const k = weight.dim(2);
  const p = pads ?? [padding, padding, padding, padding];
  const spatial = (d: Dim, before: number, after: number): Dim =>
    typeof d === 'number' ? Math.floor((d + before + after - k) / stride) + 1 : stride === 1 ? d : `${d}/${stride}`;
  const shape = [x.shape[0], weight.dim(0), spatial(x.shape[2], p[0], p[2]), spatial(x.shape[3], p[1], p[3])];
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return x.graph.node('Conv', inputs, { kernel_shape: [k, k], strides: [stride, stride], pads: p }, [shape])[0];
}

/**
 * The size a reshape's -1 takes when every other target entry copies (0) a leading input dimension: the product of
 * the remaining input dimensions, kept symbolic ('(H/2)*(W/2)') so shape analyses can still evaluate it; else '?'.
 */
function inferredDim(input: Shape, target: readonly number[]): Dim {
  const at = target.indexOf(-1);
  if (at !== target.length - 1 || target.slice(0, at).some((d) => d !== 0)) return '?';
  const rest = input.slice(at);
  if (rest.every((d) => typeof d === 'number')) return (rest as number[]).reduce((a, b) => a * b, 1);
  return rest.map((d) => (typeof d === 'number' ? String(d) : `(${d})`)).join('*');
}

/** torch.reshape; 0 copies the input dimension, -1 is inferred (ONNX Reshape semantics). */
export function reshape(x: Value, shape: readonly number[], outShape?: Shape): Value {
  const target = x.graph.constant(shape, [shape.length], 'int64');
  const inferred = outShape ?? shape.map((d, i) => (d === 0 ? x.shape[i] : d === -1 ? inferredDim(x.shape, shape) : d));
  return x.graph.node('Reshape', [x, target], {}, [{ shape: inferred, dtype: x.dtype }])[0];
}

/** torch.permute. */
export function transpose(x: Value, perm: readonly number[]): Value {
  return x.graph.node('Transpose', [x], { perm }, [{ shape: perm.map((p) => x.shape[p]), dtype: x.dtype }])[0];
}

/** torch.cat(values, dim=axis). */
export function concat(values: readonly Value[], axis: number): Value {
  const shape = [...values[0].shape];
  const a = axis < 0 ? shape.length + axis : axis;
  shape[a] = values.every((v) => typeof v.shape[a] === 'number') ? values.reduce((s, v) => s + (v.shape[a] as number), 0) : '?';
  return values[0].graph.node('Concat', values, { axis }, [{ shape, dtype: values[0].dtype }])[0];
}

/** torch.chunk(x, n, dim=axis) into equal parts. */
export function chunk(x: Value, n: number, axis: number): Value[] {
  const a = axis < 0 ? x.rank + axis : axis;
  const size = x.dim(a) / n;
  const shape = x.shape.map((d, i) => (i === a ? size : d));
  const split = x.graph.constant(Array(n).fill(size), [n], 'int64');
  return x.graph.node('Split', [x, split], { axis: a }, Array(n).fill(shape));
}

/** torch.unsqueeze for several axes (in increasing order). */
export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const shape: Dim[] = [...x.shape];
  for (const a of axes) shape.splice(a, 0, 1);
  return x.graph.node('Unsqueeze', [x, x.graph.constant(axes, [axes.length], 'int64')], {}, [{ shape, dtype: x.dtype }])[0];
}

/** torch.nn.functional.layer_norm over the last axis. */
export function layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
  return x.graph.node('LayerNormalization', [x, weight, bias], { axis: -1, epsilon: { float: eps } }, [x.shape])[0];
}

/**
 * torch.nn.functional.group_norm(x [N, C, H, W], groups, weight, bias, eps): normalise each group with
 * InstanceNormalization over [N, G, C/G·H·W], then the per-channel affine.
 */
export function groupNorm(x: Value, groups: number, weight: Value, bias: Value, eps: number): Value {
  const g = x.graph;
  const c = x.dim(1);
  const grouped = reshape(x, [0, groups, -1]); // [N, C, H, W] → [N, G, C/G·H·W]
  const ones = g.constant(new Float32Array(groups).fill(1), [groups]);
  const zeros = g.constant(new Float32Array(groups), [groups]);
  const normed = g.node('InstanceNormalization', [grouped, ones, zeros], { epsilon: { float: eps } }, [grouped.shape])[0];
  const back = reshapeLike(normed, x); // → [N, C, H, W]
  const w = reshape(weight, [c, 1, 1], [c, 1, 1]);
  const b = reshape(bias, [c, 1, 1], [c, 1, 1]);
  return add(mul(back, w), b);
}

/** Reshapes `x` to the runtime shape of `like` (for dimensions only known at run time). */
export function reshapeLike(x: Value, like: Value): Value {
  const shape = x.graph.node('Shape', [like], {}, [{ shape: [like.rank], dtype: 'int64' }])[0];
  return x.graph.node('Reshape', [x, shape], {}, [{ shape: like.shape, dtype: x.dtype }])[0];
}

/** torch.nn.functional.softmax(x, dim=axis). */
export function softmax(x: Value, axis = -1): Value {
  return x.graph.node('Softmax', [x], { axis }, [x.shape])[0];
}

/** torch.nn.functional.interpolate(x, scale_factor=2, mode='nearest'). */
export function interpolateNearest2x(x: Value): Value {
  const g = x.graph;
  const scales = g.constant([1, 1, 2, 2], [4]);
  const twice = (d: Dim): Dim => (typeof d === 'number' ? d * 2 : `${d}*2`);
  const shape = [x.shape[0], x.shape[1], twice(x.shape[2]), twice(x.shape[3])];
  return g.node('Resize', [x, null, scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, [shape])[0];
}

/**
 * torch.nn.functional.scaled_dot_product_attention over `heads` heads, with q [N, Lq, C], k/v [N, Lk, C]
 * (heads split from C), as com.microsoft.MultiHeadAttention: one fused kernel, no [N, h, Lq, Lk] in the graph.
 */
export function scaledDotProductAttention(q: Value, k: Value, v: Value, heads: number, { causal = false }: { causal?: boolean } = {}): Value {
  const attrs: Record<string, number> = { num_heads: heads };
  if (causal) attrs.unidirectional = 1;
  return q.graph.node('MultiHeadAttention', [q, k, v], attrs, [[q.shape[0], q.shape[1], v.shape[2]]], MS_DOMAIN)[0];
}

const ONNX_TYPE = { float32: 1, int64: 7, bool: 9 } as const;

/** torch.Tensor.to(dtype): ONNX Cast. */
export function cast(x: Value, dtype: 'float32' | 'int64' | 'bool'): Value {
  return x.graph.node('Cast', [x], { to: ONNX_TYPE[dtype] }, [{ shape: x.shape, dtype }])[0];
}

/** torch.where(condition, x, y) with broadcasting; `condition` is bool. */
export function where(condition: Value, x: Value, y: Value): Value {
  const shape = broadcast(broadcast(condition.shape, x.shape), y.shape);
  return x.graph.node('Where', [condition, x, y], {}, [{ shape, dtype: x.dtype }])[0];
}

/** torch.argmax(x, dim=axis, keepdim): int64; ties give the first index, as torch does. */
export function argmax(x: Value, axis: number, keepdim = false): Value {
  const a = axis < 0 ? x.rank + axis : axis;
  const shape = keepdim ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return x.graph.node('ArgMax', [x], { axis: a, keepdims: keepdim ? 1 : 0, select_last_index: 0 }, [{ shape, dtype: 'int64' }])[0];
}

/** `x[arange(N), index[:, 0]]` for x [N, L, …] and index [N, 1] int64 (torch advanced indexing) → [N, …]. */
export function selectPerBatch(x: Value, index: Value): Value {
  return x.graph.node('GatherND', [x, index], { batch_dims: 1 }, [{ shape: [x.shape[0], ...x.shape.slice(2)], dtype: x.dtype }])[0];
}
