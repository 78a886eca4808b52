/**
 * openaimodel.py UNetModel: the block layout (input_blocks, middle_block, output_blocks) computed from the
 * config exactly as the reference constructor does, so indices match the checkpoint's.
 */
import type { UNetConfig } from '../checkpoint/config.ts';
import { Conv2d, GroupNorm, Linear, Sequential, SiLU } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { Downsample, ResBlock, SpatialTransformer, TimestepEmbedSequential, timestepEmbedding, Upsample } from './unet.ts';

export class UNetModel extends Module {
  readonly time_embed: Sequential;
  readonly label_emb: Sequential[] | null;
  readonly input_blocks: TimestepEmbedSequential[] = [];
  readonly middle_block: TimestepEmbedSequential;
  readonly output_blocks: TimestepEmbedSequential[] = [];
  readonly out: Sequential;

  constructor(readonly config: UNetConfig) {
    super();
    const c = config;
    const ted = c.model_channels * 4;
    this.time_embed = new Sequential(new Linear(c.model_channels, ted), new SiLU(), new Linear(ted, ted));
    this.label_emb = c.adm_in_channels === null ? null : [new Sequential(new Linear(c.adm_in_channels, ted), new SiLU(), new Linear(ted, ted))];
    const chans = this.buildInput(ted);
    const ch = c.model_channels * c.channel_mult[c.channel_mult.length - 1];
    this.middle_block = new TimestepEmbedSequential([
      new ResBlock(ch, ted, ch),
      this.transformer(ch, c.transformer_depth_middle),
      new ResBlock(ch, ted, ch),
    ]);
    this.buildOutput(ted, chans);
    this.out = new Sequential(new GroupNorm(32, c.model_channels), new SiLU(), new Conv2d(c.model_channels, c.out_channels, 3, { padding: 1 }));
  }

  /** SpatialTransformer at `ch` channels: fixed head count (SD1) or fixed head width (SD2/SDXL). */
  private transformer(ch: number, depth: number): SpatialTransformer {
    const c = this.config;
    const heads = c.num_head_channels === -1 ? c.num_heads : ch / c.num_head_channels;
    return new SpatialTransformer(ch, heads, ch / heads, depth, c.context_dim, c.use_linear_in_transformer);
  }

  private hasAttention(level: number, ds: number): boolean {
    return this.config.attention_resolutions.includes(ds) && this.config.transformer_depth[level] > 0;
  }

  /** Builds input_blocks; returns the channel count after each block (consumed by the skip connections). */
  private buildInput(ted: number): number[] {
    const c = this.config;
    this.input_blocks.push(new TimestepEmbedSequential([new Conv2d(c.in_channels, c.model_channels, 3, { padding: 1 })]));
    const chans = [c.model_channels];
    let ch = c.model_channels;
    let ds = 1;
    c.channel_mult.forEach((mult, level) => {
      for (let i = 0; i < c.num_res_blocks; i++) {
        const blocks: (ResBlock | SpatialTransformer)[] = [new ResBlock(ch, ted, mult * c.model_channels)];
        ch = mult * c.model_channels;
        if (this.hasAttention(level, ds)) blocks.push(this.transformer(ch, c.transformer_depth[level]));
        this.input_blocks.push(new TimestepEmbedSequential(blocks));
        chans.push(ch);
      }
      if (level !== c.channel_mult.length - 1) {
        this.input_blocks.push(new TimestepEmbedSequential([new Downsample(ch)]));
        chans.push(ch);
        ds *= 2;
      }
    });
    return chans;
  }

  private buildOutput(ted: number, chans: number[]): void {
    const c = this.config;
    let ch = c.model_channels * c.channel_mult[c.channel_mult.length - 1];
    let ds = 2 ** (c.channel_mult.length - 1);
    for (let level = c.channel_mult.length - 1; level >= 0; level--) {
      const mult = c.channel_mult[level];
      for (let i = 0; i <= c.num_res_blocks; i++) {
        const skip = chans.pop() as number;
        const blocks: (ResBlock | SpatialTransformer | Upsample)[] = [new ResBlock(ch + skip, ted, c.model_channels * mult)];
        ch = c.model_channels * mult;
        if (this.hasAttention(level, ds)) blocks.push(this.transformer(ch, c.transformer_depth[level]));
        if (level > 0 && i === c.num_res_blocks) {
          blocks.push(new Upsample(ch));
          ds /= 2;
        }
        this.output_blocks.push(new TimestepEmbedSequential(blocks));
      }
    }
  }

  /** x [N, 4, h, w], timesteps [N] (float, fractional allowed), context [N, L, context_dim], y [N, adm] (SDXL). */
  forward(x: Value, timesteps: Value, context: Value, y: Value | null): Value {
    let emb = this.time_embed.forward(timestepEmbedding(timesteps, this.config.model_channels)); // [N, 4·C]
    if (this.label_emb && y) emb = F.add(emb, this.label_emb[0].forward(y));
    const hs: Value[] = [];
    let h = x;
    for (const block of this.input_blocks) {
      h = block.forward(h, emb, context);
      hs.push(h);
    }
    h = this.middle_block.forward(h, emb, context);
    for (const block of this.output_blocks) {
      h = F.concat([h, hs.pop() as Value], 1); // skip connection along channels
      h = block.forward(h, emb, context);
    }
    return this.out.forward(h);
  }
}

/**
 * Graph: inputs `x` [N, C, H, W], `timesteps` [N], `context` [N, L, context_dim] (+ `y` [N, adm] for SDXL);
 * output `out` [N, C_out, H, W] (eps or v, as the model was trained).
 */
export function buildUNetGraph(config: UNetConfig): Graph {
  const graph = new Graph('unet');
  const model = new UNetModel(config).bindNames('model.diffusion_model');
  const x = graph.input('x', ['N', config.in_channels, 'H', 'W']);
  const t = graph.input('timesteps', ['N']);
  const context = graph.input('context', ['N', 'L', config.context_dim]);
  const y = config.adm_in_channels === null ? null : graph.input('y', ['N', config.adm_in_channels]);
  graph.output(model.forward(x, t, context, y), 'out');
  return graph;
}
