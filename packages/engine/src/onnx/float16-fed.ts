/**
 * Fed weights stored in float16, computed in float32 (issue 9: "fp16 weights stored and fp32 computed"). A
 * parameter the session takes as an input (compile.ts `fedParams`) is declared float16 and widened by a Cast
 * right before its first use, so the process holds half the bytes for it and ORT's float32 kernels run as before.
 * An F16 checkpoint's weights widen exactly, so its images are bit for bit those of float32 inputs.
 *
 * Why only fed parameters: ORT folds a Cast of an initializer at load time, which stores the float32 copy again.
 * Each Cast's float32 output lives from that Cast to its consumer; the Casts are placed just before their first
 * consumer so that only the weights of the running layer are widened at once.
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
  const casted = new Set<string>();
  const nodes: NodeSpec[] = [];
  for (const node of graph.nodes) {
    const halves = node.inputs.filter((input) => names.has(input));
    for (const name of halves) {
      if (casted.has(name)) continue;
      casted.add(name);
      nodes.push({ opType: 'Cast', domain: '', name: `float16-fed/${name}`, inputs: [name], outputs: [name + WIDENED], attributes: { to: 1 } });
    }
    nodes.push(halves.length === 0 ? node : { ...node, inputs: node.inputs.map((input) => (names.has(input) ? input + WIDENED : input)) });
  }
  graph.nodes.splice(0, graph.nodes.length, ...nodes);
}
