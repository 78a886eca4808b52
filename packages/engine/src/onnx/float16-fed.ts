/**
 * Fed weights stored in float16, computed in float32 (issue 9: "fp16 weights stored and fp32 computed"). A
 * parameter the session takes as an input (compile.ts `fedParams`) is declared float16 and widened by a Cast
 * right before its first use, so the process holds half the bytes for it and ORT's float32 kernels run as before.
 * An F16 checkpoint's weights widen exactly, so its images are bit for bit those of float32 inputs.
 *
 * Why only fed parameters: ORT folds a Cast of an initializer at load time, which stores the float32 copy again.
 * Each Cast's float32 output lives from that Cast to its consumer; each Cast waits for the activation its consumer
 * works on (see `widen`), so only the weights of the running layer are widened at once.
 */
import type { Graph, NodeSpec } from './graph.ts';

const WIDENED = ':float32';

/** Rewrites `graph` in place: every parameter in `names` becomes a float16 input widened by a Cast at its first use. */
export function feedAsFloat16(graph: Graph, names: ReadonlySet<string>): void {
  for (const name of names) {
    const param = graph.params.get(name);
    if (!param) throw new Error(`${graph.name}: no parameter ${name} to feed as float16`);
    if ((param.dtype ?? 'float32') !== 'float32') throw new Error(`${graph.name}: ${name} is ${param.dtype}, not float32`);
    graph.params.set(name, { ...param, dtype: 'float16' });
  }
  const consumers = consumersOf(graph);
  const constants = new Set(graph.constants.map((c) => c.name));
  const anchors = new Map<string, string>();
  const casted = new Set<string>();
  const original = [...graph.nodes];
  const nodes: NodeSpec[] = [];
  for (const node of original) {
    for (const name of node.inputs.filter((input) => names.has(input))) {
      if (casted.has(name)) continue;
      casted.add(name);
      const start = graph.nodes.length;
      widen(graph, name, activationOf(graph, node, consumers, constants), anchors);
      nodes.push(...graph.nodes.splice(start));
    }
    nodes.push(
      node.inputs.some((input) => names.has(input)) ? { ...node, inputs: node.inputs.map((input) => (names.has(input) ? input + WIDENED : input)) } : node,
    );
  }
  graph.nodes.splice(0, graph.nodes.length, ...nodes);
}

/**
 * `name` (float16) → `name:float32`, made to wait for `activation`: ORT orders nodes whose inputs are all graph inputs
 * early, which would widen every weight at the start of a run and keep all the float32 copies alive at once (as much
 * memory as never storing them in float16). So the float16 tensor passes through a Reshape to its own shape whose
 * target is computed from `activation`'s batch size × 0: free at run time, and not foldable, since the batch size is
 * symbolic.
 */
function widen(graph: Graph, name: string, activation: string | null, anchors: Map<string, string>): void {
  const param = graph.params.get(name) as { dims: readonly number[] };
  let source = name;
  if (activation) {
    const zero = anchorZero(graph, activation, anchors);
    const dims = graph.constant(param.dims, [param.dims.length], 'int64');
    const [target] = graph.node('Add', [dims, graph.values.get(zero) ?? null], {}, [{ shape: [param.dims.length], dtype: 'int64' }]);
    [{ name: source }] = graph.node('Reshape', [graph.values.get(name) ?? null, target], {}, [{ shape: param.dims, dtype: 'float16' }]);
  }
  graph.nodes.push({ opType: 'Cast', domain: '', name: `float16-fed/${name}`, inputs: [source], outputs: [name + WIDENED], attributes: { to: 1 } });
}

/** `activation`'s batch size times 0, as int64 [1] (one per activation, shared by the weights that wait for it). */
function anchorZero(graph: Graph, activation: string, anchors: Map<string, string>): string {
  let zero = anchors.get(activation);
  if (!zero) {
    const x = graph.values.get(activation);
    if (!x) throw new Error(`${graph.name}: no value ${activation}`);
    const [shape] = graph.node('Shape', [x], {}, [{ shape: [x.rank], dtype: 'int64' }]);
    const [batch] = graph.node('Slice', [shape, graph.constant([0], [1], 'int64'), graph.constant([1], [1], 'int64')], {}, [{ shape: [1], dtype: 'int64' }]);
    [{ name: zero }] = graph.node('Mul', [batch, graph.constant([0], [1], 'int64')], {}, [{ shape: [1], dtype: 'int64' }]);
    anchors.set(activation, zero);
  }
  return zero;
}

/** The activation a weight's first consumer works on: its first input that is neither a parameter nor a constant,
 * looking through weight-only nodes (the Transpose `linear()` puts on a weight) to the node they feed. */
function activationOf(graph: Graph, node: NodeSpec, consumers: Map<string, NodeSpec[]>, constants: ReadonlySet<string>, depth = 0): string | null {
  const activation = node.inputs.find((input) => input !== '' && !graph.params.has(input) && !constants.has(input));
  if (activation) return activation;
  const next = consumers.get(node.outputs[0])?.[0];
  return next && depth < 3 ? activationOf(graph, next, consumers, constants, depth + 1) : null;
}

function consumersOf(graph: Graph): Map<string, NodeSpec[]> {
  const consumers = new Map<string, NodeSpec[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }
  return consumers;
}
