/**
 * openaimodel.py UNetModel: the block layout (input_blocks, middle_block, output_blocks) computed from the
 * config exactly as the reference constructor does, so indices match the checkpoint's. The controlled variant
 * takes ControlNet residuals as extra inputs (lllyasviel/ControlNet@ed85cd1 cldm/cldm.py ControlledUnetModel,
 * Apache-2.0): added to the middle-block output and to each skip before it is concatenated.
 */
import type { UNetConfig } from '../checkpoint/config.ts';
import { Conv2d, GroupNorm, Linear, Sequential, SiLU } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Shape, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { Downsample, ResBlock, SpatialTransformer, TimestepEmbedSequential, timestepEmbedding, Upsample } from './unet.ts';

/** SpatialTransformer at `ch` channels: fixed head count (SD1) or fixed head width (SD2/SDXL). */
export function unetTransformer(c: UNetConfig, ch: number, depth: number): SpatialTransformer {
  const heads = c.num_head_channels === -1 ? c.num_heads : ch / c.num_head_channels;
  return new SpatialTransformer(ch, heads, ch / heads, depth, c.context_dim, c.use_linear_in_transformer);
}

function hasAttention(c: UNetConfig, level: number, ds: number): boolean {
  return c.attention_resolutions.includes(ds) && c.transformer_depth[level] > 0;
}

/**
 * input_blocks as UNetModel.__init__ builds them (shared with the ControlNet, whose encoder is a copy); returns
 * the blocks and the channel count after each (consumed by the skip connections).
 */
export function buildInputBlocks(c: UNetConfig, ted: number): { blocks: TimestepEmbedSequential[]; chans: number[] } {
  const blocks = [new TimestepEmbedSequential([new Conv2d(c.in_channels, c.model_channels, 3, { padding: 1 })])];
  const chans = [c.model_channels];
  let ch = c.model_channels;
  let ds = 1;
  c.channel_mult.forEach((mult, level) => {
    for (let i = 0; i < c.num_res_blocks; i++) {
      const layers: (ResBlock | SpatialTransformer)[] = [new ResBlock(ch, ted, mult * c.model_channels)];
      ch = mult * c.model_channels;
      if (hasAttention(c, level, ds)) layers.push(unetTransformer(c, ch, c.transformer_depth[level]));
      blocks.push(new TimestepEmbedSequential(layers));
      chans.push(ch);
    }
    if (level !== c.channel_mult.length - 1) {
      blocks.push(new TimestepEmbedSequential([new Downsample(ch)]));
      chans.push(ch);
      ds *= 2;
    }
  });
  return { blocks, chans };
}

/** middle_block: ResBlock, SpatialTransformer, ResBlock at the deepest width. */
export function buildMiddleBlock(c: UNetConfig, ted: number): TimestepEmbedSequential {
  const ch = c.model_channels * c.channel_mult[c.channel_mult.length - 1];
  return new TimestepEmbedSequential([new ResBlock(ch, ted, ch), unetTransformer(c, ch, c.transformer_depth_middle), new ResBlock(ch, ted, ch)]);
}

/** Number of ControlNet residuals a UNet of `config` takes: one per input block plus the middle block. */
export function controlResidualCount(config: UNetConfig): number {
  return 1 + config.channel_mult.length * config.num_res_blocks + (config.channel_mult.length - 1) + 1;
}

export class UNetModel extends Module {
  readonly time_embed: Sequential;
  readonly label_emb: Sequential[] | null;
  readonly input_blocks: TimestepEmbedSequential[];
  readonly middle_block: TimestepEmbedSequential;
  readonly output_blocks: TimestepEmbedSequential[] = [];
  readonly out: Sequential;

  constructor(readonly config: UNetConfig) {
    super();
    const c = config;
    const ted = c.model_channels * 4;
    this.time_embed = new Sequential(new Linear(c.model_channels, ted), new SiLU(), new Linear(ted, ted));
    this.label_emb = c.adm_in_channels === null ? null : [new Sequential(new Linear(c.adm_in_channels, ted), new SiLU(), new Linear(ted, ted))];
    const { blocks, chans } = buildInputBlocks(c, ted);
    this.input_blocks = blocks;
    this.middle_block = buildMiddleBlock(c, ted);
    this.buildOutput(ted, chans);
    this.out = new Sequential(new GroupNorm(32, c.model_channels), new SiLU(), new Conv2d(c.model_channels, c.out_channels, 3, { padding: 1 }));
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
        if (hasAttention(c, level, ds)) blocks.push(unetTransformer(c, ch, c.transformer_depth[level]));
        if (level > 0 && i === c.num_res_blocks) {
          blocks.push(new Upsample(ch));
          ds /= 2;
        }
        this.output_blocks.push(new TimestepEmbedSequential(blocks));
      }
    }
  }

  /**
   * x [N, 4, h, w], timesteps [N] (float, fractional allowed), context [N, L, context_dim], y [N, adm] (SDXL);
   * `control` (ControlledUnetModel): one residual per input block plus the middle block, in ControlNet order.
   */
  forward(x: Value, timesteps: Value, context: Value, y: Value | null, control: Value[] | null = null): Value {
    let emb = this.time_embed.forward(timestepEmbedding(timesteps, this.config.model_channels)); // [N, 4·C]
    if (this.label_emb && y) emb = F.add(emb, this.label_emb[0].forward(y));
    const hs: Value[] = [];
    let h = x;
    for (const block of this.input_blocks) {
      h = block.forward(h, emb, context);
      hs.push(h);
    }
    h = this.middle_block.forward(h, emb, context);
    const residuals = control ? [...control] : null;
    if (residuals) h = F.add(h, residuals.pop() as Value); // middle-block output += last residual
    for (const block of this.output_blocks) {
      const skip = hs.pop() as Value;
      h = F.concat([h, residuals ? F.add(skip, residuals.pop() as Value) : skip], 1); // skip connection along channels
      h = block.forward(h, emb, context);
    }
    return this.out.forward(h);
  }
}

/**
 * Graph: inputs `x` [N, C, H, W], `timesteps` [N], `context` [N, L, context_dim] (+ `y` [N, adm] for SDXL);
 * output `out` [N, C_out, H, W] (eps or v, as the model was trained). With `control`, the inputs
 * `control_0` … `control_{n-1}` take the summed ControlNet residuals (shapes of the matching input-block outputs,
 * the last that of the middle block); without it the graph is exactly the plain UNet.
 */
export function buildUNetGraph(config: UNetConfig, { control = false }: { control?: boolean } = {}): Graph {
  const graph = new Graph(control ? 'unet-controlled' : 'unet');
  const model = new UNetModel(config).bindNames('model.diffusion_model');
  const x = graph.input('x', ['N', config.in_channels, 'H', 'W']);
  const t = graph.input('timesteps', ['N']);
  const context = graph.input('context', ['N', 'L', config.context_dim]);
  const y = config.adm_in_channels === null ? null : graph.input('y', ['N', config.adm_in_channels]);
  const residuals = control ? controlResidualShapes(config).map((shape, i) => graph.input(`control_${i}`, shape)) : null;
  graph.output(model.forward(x, t, context, y, residuals), 'out');
  return graph;
}

/** Symbolic shapes of the residual inputs: [N, C, H/ds, W/ds] after each input block, then the middle block. */
export function controlResidualShapes(c: UNetConfig): Shape[] {
  const at = (ch: number, ds: number): Shape => ['N', ch, ds === 1 ? 'H' : `H/${ds}`, ds === 1 ? 'W' : `W/${ds}`];
  const shapes = [at(c.model_channels, 1)];
  let ds = 1;
  c.channel_mult.forEach((mult, level) => {
    for (let i = 0; i < c.num_res_blocks; i++) shapes.push(at(mult * c.model_channels, ds));
    if (level !== c.channel_mult.length - 1) {
      ds *= 2; // the Downsample closing this level outputs the next level's size
      shapes.push(at(mult * c.model_channels, ds));
    }
  });
  shapes.push(at(c.model_channels * c.channel_mult[c.channel_mult.length - 1], ds));
  return shapes;
}
