/**
 * lllyasviel's ControlNet (lllyasviel/ControlNet@ed85cd1e cldm/cldm.py `ControlNet`, Apache-2.0): a copy of the
 * UNet encoder (time embedding, input blocks, middle block) plus `input_hint_block`, which maps the control image
 * to the latent size, and one 1×1 "zero conv" after every input block and after the middle block. Module fields
 * are the checkpoint key segments of the v1.1 layout once `control_model.` is stripped (checkpoint/
 * detect-controlnet.ts maps the diffusers layout onto the same names).
 */
import type { ControlNetConfig } from '../checkpoint/config.ts';
import { Conv2d, Linear, Sequential, SiLU } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { type TimestepEmbedSequential, timestepEmbedding } from './unet.ts';
import { buildInputBlocks, buildMiddleBlock } from './unet-model.ts';

/** cldm.py `input_hint_block`: eight 3×3 convs with SiLU between, three of them stride 2 (hint size → latent size). */
function hintBlock(hintChannels: number, modelChannels: number): Sequential {
  const widths = [16, 16, 32, 32, 96, 96, 256];
  const layers = [new Conv2d(hintChannels, 16, 3, { padding: 1 }), new SiLU()];
  for (let i = 1; i < widths.length; i++) {
    const stride = widths[i] !== widths[i - 1] ? 2 : 1; // 16→32, 32→96, 96→256 downsample
    layers.push(new Conv2d(widths[i - 1], widths[i], 3, { padding: 1, stride }), new SiLU());
  }
  layers.push(new Conv2d(256, modelChannels, 3, { padding: 1 }));
  return new Sequential(...layers);
}

export class ControlNet extends Module {
  readonly time_embed: Sequential;
  readonly label_emb: Sequential[] | null;
  readonly input_hint_block: Sequential;
  readonly input_blocks: TimestepEmbedSequential[];
  readonly zero_convs: Sequential[];
  readonly middle_block: TimestepEmbedSequential;
  readonly middle_block_out: Sequential;

  constructor(readonly config: ControlNetConfig) {
    super();
    const c = config.unet;
    const ted = c.model_channels * 4;
    this.time_embed = new Sequential(new Linear(c.model_channels, ted), new SiLU(), new Linear(ted, ted));
    this.label_emb = c.adm_in_channels === null ? null : [new Sequential(new Linear(c.adm_in_channels, ted), new SiLU(), new Linear(ted, ted))];
    this.input_hint_block = hintBlock(config.hint_channels, c.model_channels);
    const { blocks, chans } = buildInputBlocks(c, ted);
    this.input_blocks = blocks;
    this.zero_convs = chans.map((ch) => new Sequential(new Conv2d(ch, ch, 1)));
    this.middle_block = buildMiddleBlock(c, ted);
    const mid = c.model_channels * c.channel_mult[c.channel_mult.length - 1];
    this.middle_block_out = new Sequential(new Conv2d(mid, mid, 1));
  }

  /** cldm.py ControlNet.forward: hint [1 or N, C_hint, 8h, 8w] broadcasts over the latent batch; returns the residuals. */
  forward(x: Value, hint: Value, timesteps: Value, context: Value, y: Value | null): Value[] {
    let emb = this.time_embed.forward(timestepEmbedding(timesteps, this.config.unet.model_channels)); // [N, 4·C]
    if (this.label_emb && y) emb = F.add(emb, this.label_emb[0].forward(y));
    const guidedHint = this.input_hint_block.forward(hint); // [1, C, 8h, 8w] → [1, model_channels, h, w]
    const outs: Value[] = [];
    let h = x;
    this.input_blocks.forEach((block, i) => {
      h = block.forward(h, emb, context);
      if (i === 0) h = F.add(h, guidedHint); // only the first block sees the hint
      outs.push(this.zero_convs[i].forward(h));
    });
    h = this.middle_block.forward(h, emb, context);
    outs.push(this.middle_block_out.forward(h));
    return outs;
  }
}

/**
 * Graph: inputs `x` [N, 4, h, w], `hint` [B, C_hint, 8h, 8w] (B = 1 or N), `timesteps` [N], `context`
 * [N, L, context_dim] (+ `y` [N, adm] for SDXL ControlNets); outputs `control_0` … `control_{n-1}` (unscaled).
 */
export function buildControlNetGraph(config: ControlNetConfig): Graph {
  const graph = new Graph('controlnet');
  const u = config.unet;
  const model = new ControlNet(config).bindNames('');
  const x = graph.input('x', ['N', u.in_channels, 'H', 'W']);
  const hint = graph.input('hint', ['B', config.hint_channels, 'H*8', 'W*8']);
  const t = graph.input('timesteps', ['N']);
  const context = graph.input('context', ['N', 'L', u.context_dim]);
  const y = u.adm_in_channels === null ? null : graph.input('y', ['N', u.adm_in_channels]);
  for (const [i, out] of model.forward(x, hint, t, context, y).entries()) graph.output(out, `control_${i}`);
  return graph;
}
