/**
 * The OpenCLIP text tower (mlfoundations/open_clip@v2.20.0 src/open_clip/model.py `encode_text`,
 * transformer.py `ResidualAttentionBlock`), keys `cond_stage_model.model.*` (SD2, ViT-H) and
 * `conditioner.embedders.{1,0}.model.*` (SDXL base / refiner, bigG). Like clip-text.ts the graph returns every
 * layer's hidden state, raw and through ln_final, so one session serves every layer choice (SD2: penultimate +
 * ln_final; SDXL: penultimate without it), plus the pooled, projected EOS feature SDXL conditions on.
 */
import type { CLIPTextConfig } from '../checkpoint/config.ts';
import { Embedding, type EmbeddingFixes, LayerNorm, Linear } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { outputHiddenStates } from './text-outputs.ts';
import { type TextGraphOptions, tokenFixesInputs } from './token-fixes.ts';

/**
 * torch nn.MultiheadAttention (self-attention, batch_first layout): fused `in_proj_weight` [3C, C] whose rows
 * are [q; k; v], `out_proj`. open_clip passes the causal `attn_mask` (upper triangle −inf).
 */
export class MultiheadAttention extends Module {
  readonly out_proj: Linear;

  constructor(readonly dim: number, readonly heads: number) {
    super();
    this.out_proj = new Linear(dim, dim);
  }

  forward(x: Value): Value {
    const g = x.graph;
    const c = this.dim;
    const qkv = F.linear(x, this.param(g, 'in_proj_weight', [3 * c, c]), this.param(g, 'in_proj_bias', [3 * c]));
    const [q, k, v] = F.chunk(qkv, 3, -1); // [N, L, 3C] → 3 × [N, L, C]
    return this.out_proj.forward(F.scaledDotProductAttention(q, k, v, this.heads, { causal: true }));
  }
}

/** transformer.py `Mlp` as open_clip names it: c_fc, GELU, c_proj. */
export class OpenCLIPMlp extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;

  constructor(dim: number, hidden: number, readonly act: CLIPTextConfig['hidden_act']) {
    super();
    this.c_fc = new Linear(dim, hidden);
    this.c_proj = new Linear(hidden, dim);
  }

  forward(x: Value): Value {
    const h = this.c_fc.forward(x);
    return this.c_proj.forward(this.act === 'quick_gelu' ? F.quickGelu(h) : F.gelu(h));
  }
}

/** transformer.py ResidualAttentionBlock: x + attn(ln_1(x)), then + mlp(ln_2(x)) (ls_1/ls_2 are Identity). */
export class ResidualAttentionBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: MultiheadAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: OpenCLIPMlp;

  constructor(c: CLIPTextConfig) {
    super();
    this.ln_1 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.attn = new MultiheadAttention(c.hidden_size, c.num_attention_heads);
    this.ln_2 = new LayerNorm(c.hidden_size, c.layer_norm_eps);
    this.mlp = new OpenCLIPMlp(c.hidden_size, c.intermediate_size, c.hidden_act);
  }

  forward(x: Value): Value {
    const h = F.add(x, this.attn.forward(this.ln_1.forward(x)));
    return F.add(h, this.mlp.forward(this.ln_2.forward(h)));
  }
}

class OpenCLIPTransformer extends Module {
  readonly resblocks: ResidualAttentionBlock[];

  constructor(c: CLIPTextConfig) {
    super();
    this.resblocks = Array.from({ length: c.num_hidden_layers }, () => new ResidualAttentionBlock(c));
  }
}

/** model.py CLIP's text half (`token_embedding`, `positional_embedding`, `transformer`, `ln_final`, `text_projection`). */
export class OpenCLIPTextTransformer extends Module {
  readonly token_embedding: Embedding;
  readonly transformer: OpenCLIPTransformer;
  readonly ln_final: LayerNorm;

  constructor(readonly config: CLIPTextConfig) {
    super();
    this.token_embedding = new Embedding(config.vocab_size, config.hidden_size);
    this.transformer = new OpenCLIPTransformer(config);
    this.ln_final = new LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  /**
   * ids [N, L] int64 → the embeddings, then each resblock's output (NLD; open_clip's LND permute is layout only).
   * `fixes` replace token vectors before the positions are added (textual inversion).
   */
  forward(ids: Value, fixes?: EmbeddingFixes): Value[] {
    const c = this.config;
    const positional = this.param(ids.graph, 'positional_embedding', [c.max_position_embeddings, c.hidden_size]);
    const states = [F.add(this.token_embedding.forward(ids, fixes), positional)]; // [N, L, C] + [L, C]
    for (const block of this.transformer.resblocks) states.push(block.forward(states[states.length - 1]));
    return states;
  }

  /** `ln_final(x)[arange(N), ids.argmax(-1)] @ text_projection`: the feature at the (first) EOS token. */
  pool(lastNormed: Value, ids: Value): Value {
    const c = this.config;
    const eos = F.argmax(F.cast(ids, 'float32'), 1, true); // [N, 1]; EOS 49407 is the largest id
    const projection = this.param(ids.graph, 'text_projection', [c.hidden_size, c.projection_dim as number]);
    return F.matmul(F.selectPerBatch(lastNormed, eos), projection); // [N, C] @ [C, P] → [N, P]
  }
}

/**
 * Graph: input `input_ids` int64 [N, 77] (+ the token-fix inputs, clip-text.ts TextGraphOptions); outputs `hidden_states` [L+1, N, 77, C] (embeddings, then each block),
 * `hidden_states_ln` [L+1, N, 77, C] (each through ln_final) and, when the tower has a `text_projection`,
 * `pooled` [N, projection_dim]. Output names match buildCLIPTextGraph's.
 */
export function buildOpenCLIPTextGraph(config: CLIPTextConfig, options: TextGraphOptions = {}): Graph {
  const graph = new Graph(options.tokenFixes ? 'open_clip_text_fixes' : 'open_clip_text');
  const model = new OpenCLIPTextTransformer(config).bindNames(config.key_prefix.replace(/\.$/, ''));
  const ids = graph.input('input_ids', ['N', config.max_position_embeddings], 'int64');
  const states = model.forward(ids, tokenFixesInputs(graph, config, options));
  const normed = outputHiddenStates(graph, states, (h) => model.ln_final.forward(h));
  if (config.projection_dim !== null) graph.output(model.pool(normed[normed.length - 1], ids), 'pooled');
  return graph;
}
