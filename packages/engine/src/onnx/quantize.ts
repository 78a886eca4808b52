/**
 * Opt-in int8 weights for the Linear layers of a graph (`LoadOptions.quantize: 'int8'`): each `x · Wᵀ` that
 * `ops.linear` builds (MatMul of a Transpose of a weight [out, in]) becomes com.microsoft.DynamicQuantizeMatMul
 * with W stored as int8 [in, out], one symmetric scale per output column (zero point 0), and x quantized per call
 * to uint8 by ORT. ORT pre-packs the constant int8 weights for its u8s8 GEMM (VNNI where the CPU has it).
 *
 * Only Linear layers: measured on ORT 1.30 CPU (AMD EPYC, AVX-512 VNNI), a [8192, 320] · [320, 1280] product took
 * 26 ms in int8 against 65 ms in float32, but a 320→320 3×3 Conv through DynamicQuantizeLinear + ConvInteger took
 * 257 ms against 80 ms in float32, so convolutions stay float32.
 */
import type { Graph, NodeSpec } from './graph.ts';
import type { WeightSource } from './proto.ts';

const MS_DOMAIN = 'com.microsoft';
const INT8 = ':int8';
const SCALE = ':scale';

/** Rewrites `graph` in place (`fed` weights, session inputs, stay float32); returns how many Linear layers now use int8. */
export function quantizeLinears(graph: Graph, fed?: ReadonlySet<string>): number {
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
 * The weight source of a graph `quantizeLinears` rewrote: `W:int8` and `W:scale` are derived from the float32
 * `W` [out, in] of `base` (per output row r: scale = max|W[r]| / 127, q = round(W[r] / scale), stored
 * transposed as [in, out]). Serialisation reads the pair one after the other, so one weight is kept at a time.
 */
export function quantizedWeights(graph: Graph, base: WeightSource): WeightSource {
  let last: { name: string; q: Int8Array; scale: Float32Array } | null = null;
  const quantized = (weight: string) => {
    if (last?.name !== weight) {
      const dims = graph.params.get(weight + INT8)?.dims;
      if (!dims) throw new Error(`${weight} is not an int8 weight of ${graph.name}`);
      const [inDim, out] = dims;
      last = { name: weight, ...quantizeRows(base(weight, [out, inDim]) as Float32Array, out, inDim) };
    }
    return last;
  };
  return (name, dims) => {
    if (name.endsWith(INT8)) return quantized(name.slice(0, -INT8.length)).q;
    if (name.endsWith(SCALE)) return quantized(name.slice(0, -SCALE.length)).scale;
    return base(name, dims);
  };
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
