/**
 * Attention modules of ldm (ldm/modules/attention.py) and HF CLIP (modeling_clip.py CLIPAttention), built on
 * the fused scaled-dot-product op.
 */
import type { Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { Dropout, Linear } from './layers.ts';
import { Module } from './module.ts';

/** ldm attention.py CrossAttention: to_q/to_k/to_v without bias, to_out = [Linear, Dropout]. */
export class CrossAttention extends Module {
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  readonly to_out: [Linear, Dropout];

  constructor(queryDim: number, contextDim: number, readonly heads: number, dimHead: number) {
    super();
    const inner = heads * dimHead;
    this.to_q = new Linear(queryDim, inner, false);
    this.to_k = new Linear(contextDim, inner, false);
    this.to_v = new Linear(contextDim, inner, false);
    this.to_out = [new Linear(inner, queryDim), new Dropout()];
  }

  /** x [N, L, C], context [N, Lc, Cc] (self-attention when null) → [N, L, C]. */
  forward(x: Value, context: Value | null): Value {
    const ctx = context ?? x;
    const h = F.scaledDotProductAttention(this.to_q.forward(x), this.to_k.forward(ctx), this.to_v.forward(ctx), this.heads);
    return this.to_out[0].forward(h);
  }
}

/** HF CLIPAttention: q/k/v/out projections with bias, causal self-attention. */
export class CLIPAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;

  constructor(dim: number, readonly heads: number) {
    super();
    this.q_proj = new Linear(dim, dim);
    this.k_proj = new Linear(dim, dim);
    this.v_proj = new Linear(dim, dim);
    this.out_proj = new Linear(dim, dim);
  }

  forward(x: Value): Value {
    const h = F.scaledDotProductAttention(this.q_proj.forward(x), this.k_proj.forward(x), this.v_proj.forward(x), this.heads, { causal: true });
    return this.out_proj.forward(h);
  }
}
