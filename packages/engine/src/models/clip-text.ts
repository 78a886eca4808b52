/**
 * The CLIP text encoder of SD1.x in HF transformers layout (transformers 4.19 modeling_clip.py,
 * CLIPTextTransformer), keys `cond_stage_model.transformer.text_model.*`.
 * The graph returns every layer's hidden state, raw and through final_layer_norm, so one session serves
 * every clip-skip value (A1111 CLIP_stop_at_last_layers = n uses final_layer_norm(hidden_states[-n])).
 */
import type { CLIPTextConfig } from '../checkpoint/config.ts';
import { CLIPAttention } from '../nn/attention.ts';
import { Embedding, type EmbeddingFixes, LayerNorm, Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { buildOpenCLIPTextGraph } from './open-clip-text.ts';
import { outputHiddenStates } from './text-outputs.ts';
import { type TextGraphOptions, tokenFixesInputs } from './token-fixes.ts';

export type { TextGraphOptions } from './token-fixes.ts';

export class CLIPMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, readonly act: CLIPTextConfig['hidden_act']) {
    super();
    this.fc1 = new Linear(dim, hidden);
    this.fc2 = new Linear(hidden, dim);
  }

  forward(x: Value): Value {
    const h = this.fc1.forward(x);
    return this.fc2.forward(this.act === 'quick_gelu' ? F.quickGelu(h) : F.gelu(h));
  }
}

/** HF CLIPEncoderLayer: pre-LN attention and MLP, each with a residual. */
export class CLIPEncoderLayer extends Module {
  readonly self_attn: CLIPAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: CLIPMLP;
  readonly layer_norm2: LayerNorm;

  constructor(c: CLIPTextConfig) {
    super();
    this.self_attn = new CLIPAttention(c.hidden_size, c.num_attention_heads);
    this.layer_norm1 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.mlp = new CLIPMLP(c.hidden_size, c.intermediate_size, c.hidden_act);
    this.layer_norm2 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
  }

  forward(x: Value): Value {
    const h = F.add(x, this.self_attn.forward(this.layer_norm1.forward(x)));
    return F.add(h, this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

export class CLIPTextEmbeddings extends Module {
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;

  constructor(readonly config: CLIPTextConfig) {
    super();
    this.token_embedding = new Embedding(config.vocab_size, config.hidden_size);
    this.position_embedding = new Embedding(config.max_position_embeddings, config.hidden_size);
  }

  /**
   * ids [N, L] int64 → [N, L, C]; positions are 0..L-1 (the checkpoint's position_ids buffer is the same).
   * `fixes` replace token vectors before the positions are added, as A1111's textual inversion does.
   */
  forward(ids: Value, fixes?: EmbeddingFixes): Value {
    const length = ids.dim(1);
    const positions = ids.graph.constant(Array.from({ length }, (_, i) => i), [1, length], 'int64');
    return F.add(this.token_embedding.forward(ids, fixes), this.position_embedding.forward(positions));
  }
}

class CLIPEncoder extends Module {
  readonly layers: CLIPEncoderLayer[];

  constructor(c: CLIPTextConfig) {
    super();
    this.layers = Array.from({ length: c.num_hidden_layers }, () => new CLIPEncoderLayer(c));
  }
}

/** HF CLIPTextTransformer (`text_model`). */
export class CLIPTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;

  constructor(readonly config: CLIPTextConfig) {
    super();
    this.embeddings = new CLIPTextEmbeddings(config);
    this.encoder = new CLIPEncoder(config);
    this.final_layer_norm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  /** Returns HF's `hidden_states` tuple: embeddings, then each layer's output. */
  forward(ids: Value, fixes?: EmbeddingFixes): Value[] {
    const states = [this.embeddings.forward(ids, fixes)];
    for (const layer of this.encoder.layers) states.push(layer.forward(states[states.length - 1]));
    return states;
  }
}

/**
 * Graph: input `input_ids` int64 [N, 77] (+ the token-fix inputs, see TextGraphOptions); outputs `hidden_states`
 * [L+1, N, 77, C] (raw) and `hidden_states_ln` [L+1, N, 77, C] (each through final_layer_norm). Row L of the latter
 * is last_hidden_state.
 */
export function buildCLIPTextGraph(config: CLIPTextConfig, options: TextGraphOptions = {}): Graph {
  const graph = new Graph(options.tokenFixes ? 'clip_text_fixes' : 'clip_text');
  const model = new CLIPTextTransformer(config).bindNames(config.key_prefix.replace(/\.$/, ''));
  const ids = graph.input('input_ids', ['N', config.max_position_embeddings], 'int64');
  const fixes = tokenFixesInputs(graph, config, options);
  outputHiddenStates(graph, model.forward(ids, fixes), (h) => model.final_layer_norm.forward(h));
  return graph;
}

/** The text-encoder graph for either tower layout (`config.layout`: HF CLIPTextModel or OpenCLIP). */
export function buildTextEncoderGraph(config: CLIPTextConfig, options: TextGraphOptions = {}): Graph {
  return config.layout === 'hf' ? buildCLIPTextGraph(config, options) : buildOpenCLIPTextGraph(config, options);
}
