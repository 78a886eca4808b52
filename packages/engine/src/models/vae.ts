/**
 * The first-stage autoencoder (ldm/modules/diffusionmodules/model.py Encoder/Decoder and
 * ldm/models/autoencoder.py AutoencoderKL, CompVis/stable-diffusion@21f890f), keys under `first_stage_model`.
 * All GroupNorms here use eps 1e-6 (model.py `Normalize`).
 */
import type { VAEConfig } from '../checkpoint/config.ts';
import { Conv2d, Dropout, GroupNorm, Identity, type Layer } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
// model.py Upsample (with_conv) is the UNet's: nearest ×2, then a 3×3 conv (same `conv` key).
import { Upsample } from './unet.ts';

const normalize = (channels: number) => new GroupNorm(32, channels, 1e-6);

/** model.py ResnetBlock without a time embedding (temb_channels = 0 in the autoencoder). */
export class ResnetBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly dropout = new Dropout();
  readonly conv2: Conv2d;
  readonly nin_shortcut: Layer;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.norm1 = normalize(inChannels);
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { padding: 1 });
    this.norm2 = normalize(outChannels);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { padding: 1 });
    this.nin_shortcut = inChannels === outChannels ? new Identity() : new Conv2d(inChannels, outChannels, 1);
  }

  forward(x: Value): Value {
    let h = this.conv1.forward(F.silu(this.norm1.forward(x)));
    h = this.conv2.forward(F.silu(this.norm2.forward(h)));
    return F.add(this.nin_shortcut.forward(x), h);
  }
}

/** model.py AttnBlock: single-head self-attention over pixels with 1×1-conv q/k/v/proj_out. */
export class AttnBlock extends Module {
  readonly norm: GroupNorm;
  readonly q: Conv2d;
  readonly k: Conv2d;
  readonly v: Conv2d;
  readonly proj_out: Conv2d;

  constructor(channels: number) {
    super();
    this.norm = normalize(channels);
    this.q = new Conv2d(channels, channels, 1);
    this.k = new Conv2d(channels, channels, 1);
    this.v = new Conv2d(channels, channels, 1);
    this.proj_out = new Conv2d(channels, channels, 1);
  }

  forward(x: Value): Value {
    const h = this.norm.forward(x);
    const tokens = (conv: Conv2d) => F.transpose(F.reshape(conv.forward(h), [0, 0, -1]), [0, 2, 1]); // [N, C, H, W] → [N, H·W, C]
    const attended = F.scaledDotProductAttention(tokens(this.q), tokens(this.k), tokens(this.v), 1);
    const back = F.reshapeLike(F.transpose(attended, [0, 2, 1]), x); // [N, H·W, C] → [N, C, H, W]
    return F.add(x, this.proj_out.forward(back));
  }
}

class Mid extends Module {
  readonly block_1: ResnetBlock;
  readonly attn_1: AttnBlock;
  readonly block_2: ResnetBlock;

  constructor(channels: number) {
    super();
    this.block_1 = new ResnetBlock(channels, channels);
    this.attn_1 = new AttnBlock(channels);
    this.block_2 = new ResnetBlock(channels, channels);
  }

  forward(x: Value): Value {
    return this.block_2.forward(this.attn_1.forward(this.block_1.forward(x)));
  }
}

/** model.py Downsample with conv: pad (0, 1, 0, 1) then a stride-2 3×3 conv. */
class Downsample extends Module {
  readonly conv: Conv2d;

  constructor(channels: number) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { stride: 2, pads: [0, 0, 1, 1] });
  }

  forward(x: Value): Value {
    return this.conv.forward(x);
  }
}

class Level extends Module {
  readonly block: ResnetBlock[] = [];
  downsample?: Downsample;
  upsample?: Upsample;
}

export class Encoder extends Module {
  readonly conv_in: Conv2d;
  readonly down: Level[] = [];
  readonly mid: Mid;
  readonly norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(c: VAEConfig) {
    super();
    this.conv_in = new Conv2d(c.in_channels, c.ch, 3, { padding: 1 });
    let blockIn = c.ch;
    c.ch_mult.forEach((mult, i) => {
      const level = new Level();
      for (let j = 0; j < c.num_res_blocks; j++) {
        level.block.push(new ResnetBlock(blockIn, c.ch * mult));
        blockIn = c.ch * mult;
      }
      if (i !== c.ch_mult.length - 1) level.downsample = new Downsample(blockIn);
      this.down.push(level);
    });
    this.mid = new Mid(blockIn);
    this.norm_out = normalize(blockIn);
    this.conv_out = new Conv2d(blockIn, 2 * c.z_channels, 3, { padding: 1 }); // double_z: mean and logvar
  }

  forward(x: Value): Value {
    let h = this.conv_in.forward(x);
    for (const level of this.down) {
      for (const block of level.block) h = block.forward(h);
      if (level.downsample) h = level.downsample.forward(h);
    }
    h = this.mid.forward(h);
    return this.conv_out.forward(F.silu(this.norm_out.forward(h)));
  }
}

export class Decoder extends Module {
  readonly conv_in: Conv2d;
  readonly mid: Mid;
  readonly up: Level[] = [];
  readonly norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(c: VAEConfig) {
    super();
    let blockIn = c.ch * c.ch_mult[c.ch_mult.length - 1];
    this.conv_in = new Conv2d(c.z_channels, blockIn, 3, { padding: 1 });
    this.mid = new Mid(blockIn);
    const levels: Level[] = [];
    for (let i = c.ch_mult.length - 1; i >= 0; i--) {
      const level = new Level();
      for (let j = 0; j <= c.num_res_blocks; j++) {
        level.block.push(new ResnetBlock(blockIn, c.ch * c.ch_mult[i]));
        blockIn = c.ch * c.ch_mult[i];
      }
      if (i !== 0) level.upsample = new Upsample(blockIn);
      levels[i] = level; // `up` is indexed by resolution level, as in the checkpoint
    }
    this.up.push(...levels);
    this.norm_out = normalize(blockIn);
    this.conv_out = new Conv2d(blockIn, c.out_ch, 3, { padding: 1 });
  }

  forward(z: Value): Value {
    let h = this.mid.forward(this.conv_in.forward(z));
    for (let i = this.up.length - 1; i >= 0; i--) {
      for (const block of this.up[i].block) h = block.forward(h);
      if (this.up[i].upsample) h = (this.up[i].upsample as Upsample).forward(h);
    }
    return this.conv_out.forward(F.silu(this.norm_out.forward(h)));
  }
}

/** AutoencoderKL with the pipeline's latent scaling folded in (decode_first_stage / get_first_stage_encoding). */
export class AutoencoderKL extends Module {
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  readonly quant_conv: Conv2d;
  readonly post_quant_conv: Conv2d;

  constructor(readonly config: VAEConfig) {
    super();
    this.encoder = new Encoder(config);
    this.decoder = new Decoder(config);
    this.quant_conv = new Conv2d(2 * config.z_channels, 2 * config.embed_dim, 1);
    this.post_quant_conv = new Conv2d(config.embed_dim, config.z_channels, 1);
  }

  /** Diffusion-space latent → image in [-1, 1] (unclamped): decoder(post_quant_conv(z / scale_factor)). */
  decode(latent: Value): Value {
    return this.decoder.forward(this.post_quant_conv.forward(F.mul(latent, 1 / this.config.scale_factor)));
  }

  /** Image in [-1, 1] → moments [N, 2·embed_dim, h, w] (mean ‖ logvar, before clamping). */
  encode(image: Value): Value {
    return this.quant_conv.forward(this.encoder.forward(image));
  }
}

/** Graph: `latent` [N, embed_dim, h, w] (diffusion space) → `image` [N, out_ch, 8h, 8w]. */
export function buildVAEDecoderGraph(config: VAEConfig): Graph {
  const graph = new Graph('vae_decoder');
  const vae = new AutoencoderKL(config).bindNames('first_stage_model');
  const latent = graph.input('latent', ['N', config.embed_dim, 'h', 'w']);
  graph.output(vae.decode(latent), 'image');
  return graph;
}

/** Graph: `image` [N, in_channels, H, W] in [-1, 1] → `moments` [N, 2·embed_dim, H/8, W/8]. */
export function buildVAEEncoderGraph(config: VAEConfig): Graph {
  const graph = new Graph('vae_encoder');
  const vae = new AutoencoderKL(config).bindNames('first_stage_model');
  const image = graph.input('image', ['N', config.in_channels, 'H', 'W']);
  graph.output(vae.encode(image), 'moments');
  return graph;
}
