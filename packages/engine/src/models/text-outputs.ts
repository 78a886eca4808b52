/**
 * The outputs both text towers (clip-text.ts, open-clip-text.ts) give their graphs, so the conditioning code can
 * read either the same way: `hidden_states` [L+1, N, 77, C] (embeddings, then each layer) and `hidden_states_ln`
 * [L+1, N, 77, C] (each through the tower's final LayerNorm).
 */
import type { Graph, Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';

/** Outputs the raw and normed stacks of `states` (each [N, L, C]); returns the normed states, unstacked. */
export function outputHiddenStates(graph: Graph, states: readonly Value[], finalNorm: (h: Value) => Value): Value[] {
  const normed = states.map(finalNorm);
  // each [N, L, C] → [1, N, L, C], stacked on that new axis
  const stack = (hs: readonly Value[]) =>
    F.concat(
      hs.map((h) => F.unsqueeze(h, [0])),
      0,
    );
  graph.output(stack(states), 'hidden_states');
  graph.output(stack(normed), 'hidden_states_ln');
  return normed;
}
