/**
 * The "tiling" graph variant: every convolution pads circularly instead of with zeros, as A1111 does for seamless
 * textures (it sets `padding_mode = 'circular'` on every torch Conv2d of the UNet and VAE). In torch, a circular
 * Conv2d(padding=p) is `conv2d(F.pad(x, (p, p, p, p), mode='circular'), padding=0)`; ONNX's Pad gained a 'wrap'
 * mode only in opset 19 and we emit opset 17, so the wrap is spelled out as the torch exporter does it: per
 * spatial axis, Concat(x[..., −p:], x, x[..., :p]), W first, then H (so corners come from the opposite corner).
 *
 * Only symmetric `padding=p` convolutions change. Asymmetric pads come from an explicit zero F.pad before a
 * padding-0 conv (the ldm VAE encoder's Downsample pads (0, 1, 0, 1)); padding_mode does not touch those in torch,
 * so they stay zero here too.
 *
 * The rewrite runs on a freshly built graph (builders make a new one per call), in place, keeping node order
 * topological: each conv's wrap nodes are inserted right before it. Compiled sessions are cached per variant by
 * the caller; the graph's nodes differ, so on-disk caches (keyed by a hash of the nodes) never mix them up.
 */
import { type Graph, Value } from './graph.ts';

/** A bound large enough for Slice's `ends` (ONNX clamps it to the axis length). */
const TO_END = 2 ** 31 - 1;

function slice(graph: Graph, x: Value, axis: number, start: number, end: number): Value {
  const [starts, ends, axes] = [[start], [end], [axis]].map((v) => graph.constant(v, [1], 'int64'));
  return graph.node('Slice', [x, starts, ends, axes], {}, [[]])[0];
}

/** torch F.pad(x, …, mode='circular') along one axis: [x[−p:], x, x[:p]]. */
function wrapAxis(graph: Graph, x: Value, axis: number, p: number): Value {
  const before = slice(graph, x, axis, -p, TO_END);
  const after = slice(graph, x, axis, 0, p);
  return graph.node('Concat', [before, x, after], { axis }, [[]])[0];
}

/** Rewrites `graph` in place so that every symmetric-padding Conv pads circularly; returns it. */
export function withCircularConvPadding(graph: Graph): Graph {
  const original = graph.nodes.splice(0, graph.nodes.length);
  for (const node of original) {
    const pads = node.opType === 'Conv' ? (node.attributes.pads as readonly number[] | undefined) : undefined;
    const p = pads?.[0] ?? 0;
    if (!pads || p === 0 || pads.some((v) => v !== p)) {
      graph.nodes.push(node);
      continue;
    }
    const x = new Value(graph, node.inputs[0], []);
    const wrapped = wrapAxis(graph, wrapAxis(graph, x, 3, p), 2, p); // W, then H, as torch pads the last dim first
    graph.nodes.push({ ...node, inputs: [wrapped.name, ...node.inputs.slice(1)], attributes: { ...node.attributes, pads: [0, 0, 0, 0] } });
  }
  return graph;
}
