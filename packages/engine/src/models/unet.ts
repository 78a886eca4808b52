
import { CrossAttention } from '../nn/attention.ts';
import { Conv2d, Dropout, GroupNorm, Identity, LayerNorm, Linear, Sequential, SiLU, type Layer } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import type { Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';

/** ldm `timestep_embedding`: [cos(t·f), sin(t·f)] with f_i = exp(-ln(10000)·i/half), cos first. */
export function timestepEmbedding(t: Value, dim: number): Value {
  const half = dim / 2;
  const freqs = t.graph.constant(Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half)), [1, half]);
  const args = F.mul(F.unsqueeze(t, [1]), freqs); // [N] → [N, 1] · [1, half] → [N, half]
  return F.concat([F.cos(args), F.sin(args)], 1); // [N, dim]
}

/** openaimodel.py ResBlock (no up/down, no scale-shift norm). */
export class ResBlock extends Module {
  readonly in_layers: Sequential;
  readonly emb_layers: Sequential;
  readonly out_layers: Sequential;
  readonly skip_connection: Layer;

  constructor(channels: number, embChannels: number, outChannels: number) {
    super();
    this.in_layers = new Sequential(new GroupNorm(32, channels), new SiLU(), new Conv2d(channels, outChannels, 3, { padding: 1 }));
    this.emb_layers = new Sequential(new SiLU(), new Linear(embChannels, outChannels));
    this.out_layers = new Sequential(new GroupNorm(32, outChannels), new SiLU(), new Dropout(), new Conv2d(outChannels, outChannels, 3, { padding: 1 }));
    this.skip_connection = channels === outChannels ? new Identity() : new Conv2d(channels, outChannels, 1);
  }

  forward(x: Value, emb: Value): Value {
    let h = this.in_layers.forward(x); // [N, C_out, H, W]
    h = F.add(h, F.unsqueeze(this.emb_layers.forward(emb), [2, 3])); // emb: [N, C_out] → [N, C_out, 1, 1]
    h = this.out_layers.forward(h);
    return F.add(this.skip_connection.forward(x), h);
  }
}

/** attention.py FeedForward with GEGLU: net = [GEGLU(proj), Dropout, Linear]. */
class GEGLU extends Module {
  readonly proj: Linear;

  constructor(dim: number, inner: number) {
    super();
    this.proj = new Linear(dim, inner * 2);
  }

  forward(x: Value): Value {
    const [h, gate] = F.chunk(this.proj.forward(x), 2, -1); // [N, L, 2·inner] → 2 × [N, L, inner]
    return F.mul(h, F.gelu(gate));
  }
}

class FeedForward extends Module {
  readonly net: [GEGLU, Dropout, Linear];

  constructor(dim: number) {
    super();
    this.net = [new GEGLU(dim, dim * 4), new Dropout(), new Linear(dim * 4, dim)];
  }

  forward(x: Value): Value {
    return this.net[2].forward(this.net[0].forward(x));
  }
}

/** attention.py BasicTransformerBlock: self-attention, cross-attention, feed-forward, pre-LN residuals. */
export class BasicTransformerBlock extends Module {
  readonly attn1: CrossAttention;
  readonly attn2: CrossAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;

  constructor(dim: number, heads: number, dimHead: number, contextDim: number) {
    super();
    this.attn1 = new CrossAttention(dim, dim, heads, dimHead);
    this.attn2 = new CrossAttention(dim, contextDim, heads, dimHead);
    this.ff = new FeedForward(dim);
    this.norm1 = new LayerNorm(dim);
    this.norm2 = new LayerNorm(dim);
    this.norm3 = new LayerNorm(dim);
  }

  forward(x: Value, context: Value): Value {
    let h = F.add(x, this.attn1.forward(this.norm1.forward(x), null));
    h = F.add(h, this.attn2.forward(this.norm2.forward(h), context));
    return F.add(h, this.ff.forward(this.norm3.forward(h)));
  }
}

/** attention.py SpatialTransformer: GroupNorm (eps 1e-6), proj_in, transformer blocks, proj_out, residual. */
export class SpatialTransformer extends Module {
  readonly norm: GroupNorm;
  readonly proj_in: Layer;
  readonly transformer_blocks: BasicTransformerBlock[];
  readonly proj_out: Layer;

  constructor(channels: number, heads: number, dimHead: number, depth: number, contextDim: number, readonly useLinear: boolean) {
    super();
    const inner = heads * dimHead;
    this.norm = new GroupNorm(32, channels, 1e-6);
    this.proj_in = useLinear ? new Linear(channels, inner) : new Conv2d(channels, inner, 1);
    this.transformer_blocks = Array.from({ length: depth }, () => new BasicTransformerBlock(inner, heads, dimHead, contextDim));
    this.proj_out = useLinear ? new Linear(inner, channels) : new Conv2d(inner, channels, 1);
  }

  forward(x: Value, context: Value): Value {
    let h = this.norm.forward(x);
    if (!this.useLinear) h = this.proj_in.forward(h);
    h = F.transpose(F.reshape(h, [0, 0, -1]), [0, 2, 1]); // [N, C, H, W] → [N, H·W, C]
    if (this.useLinear) h = this.proj_in.forward(h);
    for (const block of this.transformer_blocks) h = block.forward(h, context);
    if (this.useLinear) h = this.proj_out.forward(h);
    h = F.reshapeLike(F.transpose(h, [0, 2, 1]), x); // [N, H·W, C] → [N, C, H, W]
    if (!this.useLinear) h = this.proj_out.forward(h);
    return F.add(h, x);
  }
}

/** openaimodel.py Downsample (conv, stride 2). */
export class Downsample extends Module {
  readonly op: Conv2d;

  constructor(channels: number) {
    super();
    this.op = new Conv2d(channels, channels, 3, { stride: 2, padding: 1 });
  }

  forward(x: Value): Value {
    return this.op.forward(x);
  }
}

/** openaimodel.py Upsample: nearest ×2, then a 3×3 conv. */
export class Upsample extends Module {
  readonly conv: Conv2d;

  constructor(channels: number) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { padding: 1 });
  }

  forward(x: Value): Value {
    return this.conv.forward(F.interpolateNearest2x(x));
  }
}

type Block = ResBlock | SpatialTransformer | Downsample | Upsample | Conv2d;

/** openaimodel.py TimestepEmbedSequential: passes emb to ResBlocks and context to transformers. */
export class TimestepEmbedSequential extends Module {
  constructor(readonly blocks: Block[]) {
    super();
  }

  override children(): [string, Module][] {
    return this.blocks.map((b, i) => [String(i), b]);
  }

  forward(x: Value, emb: Value, context: Value): Value {
    for (const b of this.blocks) {
      if (b instanceof ResBlock) x = b.forward(x, emb);
      else if (b instanceof SpatialTransformer) x = b.forward(x, context);
      else x = b.forward(x);
    }
    return x;
  }
}
