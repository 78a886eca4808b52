/**
 * One float32 MatMul session with symbolic sizes, for the large `up @ down` products of LoRA merging (a rank-128
 * LoRA on SD1.5 is tens of GFLOPs: seconds in ORT's GEMM, minutes in plain JS). Small products stay in JS,
 * where the call overhead would dominate.
 */
import { Graph } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { serializeModel } from '../onnx/proto.ts';
import type { Tensor } from '../tensor.ts';
import { OrtSession } from './ort.ts';

/** Below this many multiply-adds a product is computed in JS. */
const ORT_MIN_MACS = 1 << 20;

export type MatMulFn = (a: Tensor, b: Tensor) => Promise<Tensor>;

let shared: Promise<OrtSession> | null = null;

function session(): Promise<OrtSession> {
  if (!shared) {
    const graph = new Graph('matmul');
    const a = graph.input('a', ['M', 'K']);
    const b = graph.input('b', ['K', 'N']);
    graph.output(F.matmul(a, b), 'y');
    shared = OrtSession.create(serializeModel(graph, { weights: () => new Float32Array() }));
    shared.catch(() => {
      shared = null; // let a later call retry
    });
  }
  return shared;
}

/** `a [m, k] @ b [k, n]`: onnxruntime for large products, `small` (a JS matmul) otherwise. */
export function ortMatMul(small: MatMulFn): MatMulFn {
  return async (a, b) => {
    const [m, k] = a.shape;
    const n = b.shape[1];
    if (a.shape.length !== 2 || b.shape.length !== 2 || m * k * n < ORT_MIN_MACS) return small(a, b);
    return (await (await session()).run({ a, b })).y;
  };
}
