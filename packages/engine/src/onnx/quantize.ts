/**
 * Opt-in int8 weights for a graph (`LoadOptions.quantize: 'int8'`), Linear layers and convolutions:
 *
 * - Linear: each `x · Wᵀ` that `ops.linear` builds (MatMul of a Transpose of a weight [out, in]) becomes
 *   com.microsoft.DynamicQuantizeMatMul with W stored as int8 [in, out], one symmetric scale per output column
 *   (zero point 0), and x quantized per call to uint8 by ORT. ORT pre-packs the constant int8 weights for its u8s8
 *   GEMM (VNNI where the CPU has it).
 * - Conv: ORT's ConvInteger is slow on CPU (a 320→320 3×3 Conv at 64² took 257 ms through DynamicQuantizeLinear +
 *   ConvInteger against 80 ms in float32), so a convolution becomes an im2col product instead: x is quantized once
 *   to uint8 (DynamicQuantizeLinear), laid out NHWC, padded with its zero point, and the k² shifted windows are
 *   concatenated along channels, [N, H, W, k²·Cin] in uint8 (a quarter of a float32 im2col); then
 *   com.microsoft.MatMulIntegerToFloat multiplies it by W as int8 [k²·Cin, Cout] (rows ordered ky, kx, cin), adds the
 *   bias and gives float32, transposed back to NCHW. Measured (ORT 1.30, AMD EPYC 2 cores, AVX-512 VNNI, batch 2):
 *   320→320 3×3 at 64² 95 → 40 ms, 640 at 32² 87 → 31 ms, 1280 at 16² 87 → 36 ms, 1×1 320 at 64² 18 → 10 ms.
 *   The first and last convolutions of a network (4 latent channels in or out) stay float32: they are cheap and the
 *   output is where rounding shows most.
 */
import type { Graph, NodeSpec, Shape, Value } from './graph.ts';
import type { WeightSource } from './proto.ts';

/** How an int8 weight is derived from its float32 checkpoint tensor (quantizedWeights reads this). */
export type Int8Weight = { layout: 'linear'; out: number; in: number } | { layout: 'conv'; out: number; in: number; k: number };
/** The int8 weights a graph's rewrite introduced, by checkpoint weight name. */
export type Int8Plan = Map<string, Int8Weight>;

const MS_DOMAIN = 'com.microsoft';
const INT8 = ':int8';
const SCALE = ':scale';

/** Rewrites `graph`'s Linear layers in place (`fed` weights, session inputs, stay float32); returns how many now use int8. */
export function quantizeLinears(graph: Graph, fed?: ReadonlySet<string>, plan: Int8Plan = new Map()): number {
  const producers = new Map<string, NodeSpec>();
  const uses = new Map<string, number>();
  for (const node of graph.nodes) {
    for (const out of node.outputs) producers.set(out, node);
    for (const input of node.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
  }
  const dropped = new Set<NodeSpec>();
  let count = 0;
  graph.nodes.forEach((node, i) => {
    if (node.opType !== 'MatMul' || node.domain !== '') return;
    const transpose = producers.get(node.inputs[1]);
    const weight = transpose && isWeightTranspose(graph, transpose) ? graph.params.get(transpose.inputs[0]) : undefined;
    if (!transpose || !weight || fed?.has(weight.name) || uses.get(transpose.outputs[0]) !== 1 || uses.get(weight.name) !== 1) return;
    const [out, inDim] = weight.dims;
    const q = graph.param(weight.name + INT8, [inDim, out], 'int8');
    const scale = graph.param(weight.name + SCALE, [out]);
    const zeroPoint = graph.constant(new Array(out).fill(0), [out], 'int8');
    graph.nodes[i] = { ...node, opType: 'DynamicQuantizeMatMul', domain: MS_DOMAIN, inputs: [node.inputs[0], q.name, scale.name, zeroPoint.name] };
    dropped.add(transpose);
    graph.params.delete(weight.name);
    plan.set(weight.name, { layout: 'linear', out, in: inDim });
    count++;
  });
  const kept = graph.nodes.filter((n) => !dropped.has(n));
  graph.nodes.splice(0, graph.nodes.length, ...kept);
  return count;
}

function isWeightTranspose(graph: Graph, node: NodeSpec): boolean {
  const perm = node.attributes.perm;
  const param = graph.params.get(node.inputs[0]);
  return node.opType === 'Transpose' && Array.isArray(perm) && perm.join() === '1,0' && param?.dims.length === 2 && (param.dtype ?? 'float32') === 'float32';
}

/**
 * The weight source of a graph the rewrites above changed: `W:int8` and `W:scale` are derived from the float32 `W`
 * of `base` (per output row r: scale = max|W[r]| / 127, q = round(W[r] / scale), stored transposed as [in, out];
 * a convolution's rows are first reordered from [cin, ky, kx] to [ky, kx, cin], the im2col order). Serialisation
 * reads the pair one after the other, so one weight is kept at a time.
 */
export function quantizedWeights(plan: Int8Plan, base: WeightSource): WeightSource {
  let last: { name: string; q: Int8Array; scale: Float32Array } | null = null;
  const quantized = (weight: string) => {
    if (last?.name !== weight) {
      const spec = plan.get(weight);
      if (!spec) throw new Error(`${weight} is not an int8 weight of this graph`);
      const cols = spec.layout === 'linear' ? spec.in : spec.k * spec.k * spec.in;
      let w = base(weight, [spec.out, cols]) as Float32Array;
      if (spec.layout === 'conv') w = im2colRows(w, spec.out, spec.in, spec.k);
      last = { name: weight, ...quantizeRows(w, spec.out, cols) };
    }
    return last;
  };
  return (name, dims) => {
    if (name.endsWith(INT8)) return quantized(name.slice(0, -INT8.length)).q;
    if (name.endsWith(SCALE)) return quantized(name.slice(0, -SCALE.length)).scale;
    return base(name, dims);
  };
}

/** W [out, cin, k, k] → rows [out][ky, kx, cin]: the channel order of the im2col windows quantizeConvs concatenates. */
export function im2colRows(w: Float32Array, out: number, cin: number, k: number): Float32Array {
  const rows = new Float32Array(w.length);
  for (let o = 0; o < out; o++)
    for (let c = 0; c < cin; c++)
      for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) rows[o * k * k * cin + (ky * k + kx) * cin + c] = w[((o * cin + c) * k + ky) * k + kx];
  return rows;
}

/** Convolutions with fewer channels in or out than this stay float32 (the latent-facing first and last ones). */
const MIN_CONV_CHANNELS = 32;

/**
 * Rewrites `graph`'s 2-D convolutions (square kernel, one group, no dilation, equal strides, float32 weight used
 * once and not fed) in place into the uint8 im2col product described at the top; returns how many it rewrote.
 */
export function quantizeConvs(graph: Graph, fed?: ReadonlySet<string>, plan: Int8Plan = new Map()): number {
  const uses = new Map<string, number>();
  for (const node of graph.nodes) for (const input of node.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
  const replaced = new Map<NodeSpec, NodeSpec[]>();
  for (const node of [...graph.nodes]) {
    const weight = graph.params.get(node.inputs[1] ?? '');
    if (node.opType !== 'Conv' || node.domain !== '' || !weight || !convFits(node, weight.dims, weight.dtype) || fed?.has(weight.name)) continue;
    if (uses.get(weight.name) !== 1) continue;
    const [out, cin, k] = weight.dims;
    const start = graph.nodes.length;
    const y = im2colConv(graph, node, { out, cin, k });
    const added = graph.nodes.splice(start);
    // The last node writes the Conv's own output name (its Value stays in graph.values), so consumers are untouched.
    const last = added[added.length - 1];
    added[added.length - 1] = { ...last, outputs: [node.outputs[0]] };
    graph.values.delete(y.name);
    replaced.set(node, added);
    graph.params.delete(weight.name);
    plan.set(weight.name, { layout: 'conv', out, in: cin, k });
  }
  const nodes = graph.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  graph.nodes.splice(0, graph.nodes.length, ...nodes);
  return replaced.size;
}

function convFits(node: NodeSpec, dims: readonly number[], dtype: string | undefined): boolean {
  const a = node.attributes;
  const [out, cin, kh, kw] = dims;
  const strides = (a.strides as number[] | undefined) ?? [1, 1];
  const ones = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((d) => d === 1));
  return (
    dims.length === 4 &&
    (dtype ?? 'float32') === 'float32' &&
    kh === kw &&
    out >= MIN_CONV_CHANNELS &&
    cin >= MIN_CONV_CHANNELS &&
    (a.group === undefined || a.group === 1) &&
    ones(a.dilations) &&
    a.auto_pad === undefined &&
    strides[0] === strides[1]
  );
}

/** One convolution as uint8 im2col × int8 weight (see the top of this file); returns the NCHW float32 result. */
function im2colConv(graph: Graph, conv: NodeSpec, w: { out: number; cin: number; k: number }): Value {
  const x = graph.values.get(conv.inputs[0]) as Value;
  const [n, , h, wd] = x.shape;
  const [, , ho, wo] = (graph.values.get(conv.outputs[0]) as Value).shape;
  const stride = ((conv.attributes.strides as number[] | undefined) ?? [1, 1])[0];
  const [top, left, bottom, right] = (conv.attributes.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const u8 = (shape: Shape) => ({ shape, dtype: 'uint8' as const });
  const [xq, xScale, xZero] = graph.node('DynamicQuantizeLinear', [x], {}, [u8(x.shape), { shape: [], dtype: 'float32' }, u8([])]);
  const nhwc = graph.node('Transpose', [xq], { perm: [0, 2, 3, 1] }, [u8([n, h, wd, w.cin])])[0];
  const padded =
    top + left + bottom + right === 0
      ? nhwc
      : graph.node('Pad', [nhwc, graph.constant([0, top, left, 0, 0, bottom, right, 0], [8], 'int64'), xZero], { mode: 'constant' }, [
          u8([n, '?', '?', w.cin]),
        ])[0];
  const windows: Value[] = [];
  for (let ky = 0; ky < w.k; ky++) {
    for (let kx = 0; kx < w.k; kx++) {
      if (w.k === 1 && stride === 1) {
        windows.push(padded);
        continue;
      }
      // Window (ky, kx) of every output pixel: rows ky, ky+s, … up to k−1−ky before the padded end (so H stays symbolic).
      const end = (skip: number) => (skip === 0 ? Number.MAX_SAFE_INTEGER : -skip);
      const starts = graph.constant([ky, kx], [2], 'int64');
      const ends = graph.constant([end(w.k - 1 - ky), end(w.k - 1 - kx)], [2], 'int64');
      const axes = graph.constant([1, 2], [2], 'int64');
      const steps = graph.constant([stride, stride], [2], 'int64');
      windows.push(graph.node('Slice', [padded, starts, ends, axes, steps], {}, [u8([n, ho, wo, w.cin])])[0]);
    }
  }
  const columns = windows.length === 1 ? windows[0] : graph.node('Concat', windows, { axis: 3 }, [u8([n, ho, wo, w.k * w.k * w.cin])])[0];
  const weight = conv.inputs[1];
  const q = graph.param(weight + INT8, [w.k * w.k * w.cin, w.out], 'int8');
  const scale = graph.param(weight + SCALE, [w.out]);
  const bias = conv.inputs[2] ? (graph.values.get(conv.inputs[2]) ?? null) : null;
  const inputs = [columns, q, xScale, scale, xZero, null, bias];
  const y = graph.node('MatMulIntegerToFloat', inputs, {}, [[n, ho, wo, w.out]], MS_DOMAIN)[0];
  return graph.node('Transpose', [y], { perm: [0, 3, 1, 2] }, [[n, w.out, ho, wo]])[0];
}

/** Symmetric per-row int8 quantization of W [out, in], transposed to [in, out]. */
export function quantizeRows(w: Float32Array, out: number, inDim: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(out * inDim);
  const scale = new Float32Array(out);
  for (let r = 0; r < out; r++) {
    let max = 0;
    for (let c = 0; c < inDim; c++) max = Math.max(max, Math.abs(w[r * inDim + c]));
    const s = max > 0 ? max / 127 : 1;
    scale[r] = s;
    for (let c = 0; c < inDim; c++) q[c * out + r] = Math.round(w[r * inDim + c] / s);
  }
  return { q, scale };
}
