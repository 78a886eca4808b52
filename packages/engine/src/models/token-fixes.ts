/**
 * The optional textual-inversion inputs shared by both text towers (clip-text.ts, open-clip-text.ts): override
 * rows and a mask that replace token-embedding vectors before the positional embedding is added.
 */
import type { CLIPTextConfig } from '../checkpoint/config.ts';
import type { EmbeddingFixes } from '../nn/layers.ts';
import type { Graph } from '../onnx/graph.ts';

export interface TextGraphOptions {
  /**
   * Adds inputs `inputs_embeds_override` float [N, 77, C] and `inputs_embeds_mask` float [N, 77, 1]: where the
   * mask is 1 the override row replaces the token embedding (textual-inversion vectors). The pipeline always
   * uses this variant (an all-zero mask encodes plain ids); the plain graph stays for parity tests.
   */
  tokenFixes?: boolean;
}

/** The textual-inversion inputs of a text graph when `options.tokenFixes`, else undefined. */
export function tokenFixesInputs(graph: Graph, config: CLIPTextConfig, options: TextGraphOptions): EmbeddingFixes | undefined {
  if (!options.tokenFixes) return undefined;
  const length = config.max_position_embeddings;
  return {
    rows: graph.input('inputs_embeds_override', ['N', length, config.hidden_size]),
    mask: graph.input('inputs_embeds_mask', ['N', length, 1]),
  };
}
