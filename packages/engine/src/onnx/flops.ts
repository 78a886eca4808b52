/**
 * Floating-point operations of a graph, counted from its nodes and their static or symbolic shapes (for the
 * bench's roofline ratio: seconds ÷ (GFLOP ÷ measured GEMM peak)). Only the contractions are counted (MatMul,
 * Gemm, Conv, fused attention): they are ≥ 98% of a UNet's arithmetic, and the roofline is the GEMM peak, so
 * element-wise work would only blur the ratio. One multiply-add is 2 FLOPs.
 */
import type { Dim, Graph, NodeSpec, Shape } from './graph.ts';

/** Values of the symbolic dimensions ('N', 'H', 'L', …) for one call. */
export type DimBindings = Readonly<Record<string, number>>;

export interface FlopCount {
  total: number;
  byOp: Record<string, number>;
}

export function countFlops(graph: Graph, bindings: DimBindings): FlopCount {
  const byOp: Record<string, number> = {};
  let total = 0;
  for (const node of graph.nodes) {
    const flops = nodeFlops(graph, node, bindings);
    if (flops === 0) continue;
    byOp[node.opType] = (byOp[node.opType] ?? 0) + flops;
    total += flops;
  }
  return { total, byOp };
}

function nodeFlops(graph: Graph, node: NodeSpec, bindings: DimBindings): number {
  const shape = (name: string): number[] => {
    const value = graph.values.get(name);
    if (!value) throw new Error(`${node.name}: value ${name} is not in the graph`);
    return resolveShape(value.shape, bindings, `${node.name} (${name})`);
  };
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  switch (node.opType) {
    case 'MatMul': {
      const a = shape(node.inputs[0]);
      const out = shape(node.outputs[0]);
      return 2 * product(out) * a[a.length - 1];
    }
    case 'Gemm': {
      const a = shape(node.inputs[0]);
      const transA = node.attributes.transA === 1;
      return 2 * product(shape(node.outputs[0])) * (transA ? a[0] : a[1]);
    }
    case 'Conv': {
      const [, inPerGroup, ...kernel] = shape(node.inputs[1]); // weight [out, in/group, kh, kw]
      return 2 * product(shape(node.outputs[0])) * inPerGroup * product(kernel);
    }
    case 'MultiHeadAttention': {
      // q [N, Lq, C], k [N, Lk, C], v [N, Lk, Cv]: QKᵀ is N·Lq·Lk·C multiply-adds, softmax(·)V is N·Lq·Lk·Cv.
      const [n, lq, c] = shape(node.inputs[0]);
      const lk = shape(node.inputs[1])[1];
      const cv = shape(node.inputs[2])[2];
      return 2 * n * lq * lk * (c + cv);
    }
    default:
      return 0;
  }
}

/** Evaluates each dimension ('H/8', 'H*W', 77, …) under `bindings`. */
export function resolveShape(shape: Shape, bindings: DimBindings, where = 'shape'): number[] {
  return shape.map((d) => resolveDim(d, bindings, where));
}

function resolveDim(dim: Dim, bindings: DimBindings, where: string): number {
  if (typeof dim === 'number') return dim;
  const tokens = dim.match(/[A-Za-z_][A-Za-z_0-9]*|\d+|[*/+\-()]|\S/g) ?? [];
  let pos = 0;
  const fail = (why: string): never => {
    throw new Error(`${where}: cannot evaluate dimension '${dim}': ${why}`);
  };
  // expr := term (('+'|'-') term)*; term := atom (('*'|'/') atom)*; atom := number | name | '(' expr ')'
  const atom = (): number => {
    const t = tokens[pos++];
    if (t === undefined) return fail('unexpected end');
    if (t === '(') {
      const v = expr();
      if (tokens[pos++] !== ')') fail('missing )');
      return v;
    }
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return bindings[t] ?? fail(`no binding for ${t}`);
    return fail(`unexpected '${t}'`);
  };
  const term = (): number => {
    let v = atom();
    while (tokens[pos] === '*' || tokens[pos] === '/') v = tokens[pos++] === '*' ? v * atom() : v / atom();
    return v;
  };
  const expr = (): number => {
    let v = term();
    while (tokens[pos] === '+' || tokens[pos] === '-') v = tokens[pos++] === '+' ? v + term() : v - term();
    return v;
  };
  const value = expr();
  if (pos !== tokens.length) fail(`unexpected '${tokens[pos]}'`);
  if (!Number.isInteger(value)) fail(`not an integer (${value})`);
  return value;
}
