/**
 * The inverse of detect.ts: every tensor name and shape that a ModelConfig implies, in the original ldm/sgm
 * single-file layout (what `LatentDiffusion.state_dict()` / sgm `DiffusionEngine.state_dict()` save). Used to write
 * random checkpoints, to check full-size layouts without their bytes, and by `inspect` to count unknown/missing keys.
 * Module structure follows ldm openaimodel.py (UNetModel, ResBlock, SpatialTransformer), ldm
 * diffusionmodules/model.py (Encoder, Decoder, ResnetBlock, AttnBlock), HF CLIPTextModel and open_clip's text tower.
 */
import type { CLIPTextConfig, ModelConfig, UNetConfig, VAEConfig } from './config.ts';
import { VAE_PREFIX } from './detect-parts.ts';
import { UNET_PREFIX } from './detect-unet.ts';
import { scheduleBuffers } from './schedule-buffers.ts';

/** How a tensor is initialised by the random writer. */
export type InitKind = 'weight' | 'bias' | 'ones' | 'zeros' | 'embedding' | 'projection' | 'position_ids' | 'logit_scale' | 'buffer';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
  /** Values of a 'buffer' tensor (schedule buffers), float64 before storage. */
  readonly values?: Float64Array;
}

class LayoutBuilder {
  readonly specs: TensorSpec[] = [];

  add(name: string, shape: number[], init: InitKind, values?: Float64Array): void {
    this.specs.push({ name, shape, init, values });
  }

  linear(p: string, cin: number, cout: number, bias = true): void {
    this.add(`${p}.weight`, [cout, cin], 'weight');
    if (bias) this.add(`${p}.bias`, [cout], 'bias');
  }

  conv(p: string, cin: number, cout: number, k: number): void {
    this.add(`${p}.weight`, [cout, cin, k, k], 'weight');
    this.add(`${p}.bias`, [cout], 'bias');
  }

  /** GroupNorm / LayerNorm affine parameters. */
  norm(p: string, c: number): void {
    this.add(`${p}.weight`, [c], 'ones');
    this.add(`${p}.bias`, [c], 'zeros');
  }
}

/** All tensors of a checkpoint for `config`, sorted by name (the order safetensors' own writer uses). */
export function checkpointLayout(config: ModelConfig): TensorSpec[] {
  const b = new LayoutBuilder();
  unetLayout(b, config.unet);
  vaeLayout(b, config.vae);
  for (const t of config.text_encoders) (t.layout === 'hf' ? hfClipLayout : openClipLayout)(b, t);
  for (const [name, values] of scheduleBuffers(config)) b.add(name, [values.length], 'buffer', values);
  return b.specs.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

// ldm openaimodel.py ResBlock (dims 2, no scale-shift norm, no up/down).
function resBlock(b: LayoutBuilder, p: string, cin: number, cout: number, temb: number): void {
  b.norm(`${p}.in_layers.0`, cin);
  b.conv(`${p}.in_layers.2`, cin, cout, 3);
  b.linear(`${p}.emb_layers.1`, temb, cout);
  b.norm(`${p}.out_layers.0`, cout);
  b.conv(`${p}.out_layers.3`, cout, cout, 3);
  if (cin !== cout) b.conv(`${p}.skip_connection`, cin, cout, 1);
}

// ldm attention.py SpatialTransformer + BasicTransformerBlock (GEGLU feed-forward: proj has 2 × 4C rows).
function spatialTransformer(b: LayoutBuilder, p: string, c: number, depth: number, u: UNetConfig): void {
  const proj = (name: string) => (u.use_linear_in_transformer ? b.linear(name, c, c) : b.conv(name, c, c, 1));
  b.norm(`${p}.norm`, c);
  proj(`${p}.proj_in`);
  for (let k = 0; k < depth; k++) {
    const t = `${p}.transformer_blocks.${k}`;
    for (const [attn, kv] of [
      ['attn1', c],
      ['attn2', u.context_dim],
    ] as const) {
      b.linear(`${t}.${attn}.to_q`, c, c, false);
      b.linear(`${t}.${attn}.to_k`, kv, c, false);
      b.linear(`${t}.${attn}.to_v`, kv, c, false);
      b.linear(`${t}.${attn}.to_out.0`, c, c);
    }
    b.linear(`${t}.ff.net.0.proj`, c, 8 * c);
    b.linear(`${t}.ff.net.2`, 4 * c, c);
    for (const n of ['norm1', 'norm2', 'norm3']) b.norm(`${t}.${n}`, c);
  }
  proj(`${p}.proj_out`);
}

const hasAttention = (u: UNetConfig, level: number) => u.attention_resolutions.includes(2 ** level);

function unetLayout(b: LayoutBuilder, u: UNetConfig): void {
  const P = UNET_PREFIX;
  const temb = 4 * u.model_channels;
  b.linear(`${P}time_embed.0`, u.model_channels, temb);
  b.linear(`${P}time_embed.2`, temb, temb);
  if (u.adm_in_channels !== null) {
    b.linear(`${P}label_emb.0.0`, u.adm_in_channels, temb);
    b.linear(`${P}label_emb.0.2`, temb, temb);
  }
  const { ch, skips } = inputBlocksLayout(b, u, temb);
  resBlock(b, `${P}middle_block.0`, ch, ch, temb);
  spatialTransformer(b, `${P}middle_block.1`, ch, u.transformer_depth_middle, u);
  resBlock(b, `${P}middle_block.2`, ch, ch, temb);
  outputBlocksLayout(b, u, temb, ch, skips);
  b.norm(`${P}out.0`, u.model_channels * u.channel_mult[0]);
  b.conv(`${P}out.2`, u.model_channels * u.channel_mult[0], u.out_channels, 3);
}

/** conv_in, then per level num_res_blocks × (ResBlock [+ SpatialTransformer]) and a Downsample between levels. */
function inputBlocksLayout(b: LayoutBuilder, u: UNetConfig, temb: number): { ch: number; skips: number[] } {
  const P = UNET_PREFIX;
  const mc = u.model_channels;
  b.conv(`${P}input_blocks.0.0`, u.in_channels, mc, 3);
  const skips = [mc]; // channels of every input block output, consumed by the output blocks' skip concat
  let ch = mc;
  let block = 1;
  u.channel_mult.forEach((mult, level) => {
    for (let r = 0; r < u.num_res_blocks; r++) {
      const p = `${P}input_blocks.${block++}`;
      resBlock(b, `${p}.0`, ch, mult * mc, temb);
      ch = mult * mc;
      if (hasAttention(u, level)) spatialTransformer(b, `${p}.1`, ch, u.transformer_depth[level], u);
      skips.push(ch);
    }
    if (level !== u.channel_mult.length - 1) {
      b.conv(`${P}input_blocks.${block++}.0.op`, ch, ch, 3);
      skips.push(ch);
    }
  });
  return { ch, skips };
}

/** Per level, deepest first: num_res_blocks + 1 × (ResBlock on [h, skip] [+ SpatialTransformer]) and an Upsample. */
function outputBlocksLayout(b: LayoutBuilder, u: UNetConfig, temb: number, ch: number, skips: number[]): void {
  let block = 0;
  for (let level = u.channel_mult.length - 1; level >= 0; level--) {
    for (let i = 0; i <= u.num_res_blocks; i++) {
      const p = `${UNET_PREFIX}output_blocks.${block++}`;
      const cout = u.channel_mult[level] * u.model_channels;
      resBlock(b, `${p}.0`, ch + (skips.pop() as number), cout, temb);
      ch = cout;
      if (hasAttention(u, level)) spatialTransformer(b, `${p}.1`, ch, u.transformer_depth[level], u);
      if (level > 0 && i === u.num_res_blocks) b.conv(`${p}.${hasAttention(u, level) ? 2 : 1}.conv`, ch, ch, 3); // Upsample
    }
  }
}

// ldm diffusionmodules/model.py ResnetBlock (temb_channels 0) and AttnBlock (1×1-conv q/k/v/proj_out).
function vaeResnet(b: LayoutBuilder, p: string, cin: number, cout: number): void {
  b.norm(`${p}.norm1`, cin);
  b.conv(`${p}.conv1`, cin, cout, 3);
  b.norm(`${p}.norm2`, cout);
  b.conv(`${p}.conv2`, cout, cout, 3);
  if (cin !== cout) b.conv(`${p}.nin_shortcut`, cin, cout, 1);
}

function vaeMid(b: LayoutBuilder, p: string, c: number): void {
  vaeResnet(b, `${p}.block_1`, c, c);
  b.norm(`${p}.attn_1.norm`, c);
  for (const n of ['q', 'k', 'v', 'proj_out']) b.conv(`${p}.attn_1.${n}`, c, c, 1);
  vaeResnet(b, `${p}.block_2`, c, c);
}

function vaeLayout(b: LayoutBuilder, v: VAEConfig): void {
  const P = VAE_PREFIX;
  const last = v.ch_mult.length - 1;
  let c = v.ch;
  b.conv(`${P}encoder.conv_in`, v.in_channels, c, 3);
  v.ch_mult.forEach((m, level) => {
    for (let k = 0; k < v.num_res_blocks; k++, c = v.ch * m) vaeResnet(b, `${P}encoder.down.${level}.block.${k}`, c, v.ch * m);
    if (level !== last) b.conv(`${P}encoder.down.${level}.downsample.conv`, c, c, 3);
  });
  vaeMid(b, `${P}encoder.mid`, c);
  b.norm(`${P}encoder.norm_out`, c);
  b.conv(`${P}encoder.conv_out`, c, 2 * v.z_channels, 3);
  b.conv(`${P}decoder.conv_in`, v.z_channels, c, 3);
  vaeMid(b, `${P}decoder.mid`, c);
  for (let level = last; level >= 0; level--) {
    const cout = v.ch * v.ch_mult[level];
    for (let k = 0; k <= v.num_res_blocks; k++, c = cout) vaeResnet(b, `${P}decoder.up.${level}.block.${k}`, c, cout);
    if (level !== 0) b.conv(`${P}decoder.up.${level}.upsample.conv`, c, c, 3);
  }
  b.norm(`${P}decoder.norm_out`, c);
  b.conv(`${P}decoder.conv_out`, c, v.out_ch, 3);
  b.conv(`${P}quant_conv`, 2 * v.z_channels, 2 * v.embed_dim, 1);
  b.conv(`${P}post_quant_conv`, v.embed_dim, v.z_channels, 1);
}

// transformers CLIPTextModel (embeddings, encoder.layers.N, final_layer_norm; position_ids is a saved int64 buffer).
function hfClipLayout(b: LayoutBuilder, t: CLIPTextConfig): void {
  const P = t.key_prefix;
  const d = t.hidden_size;
  b.add(`${P}embeddings.token_embedding.weight`, [t.vocab_size, d], 'embedding');
  b.add(`${P}embeddings.position_embedding.weight`, [t.max_position_embeddings, d], 'embedding');
  b.add(`${P}embeddings.position_ids`, [1, t.max_position_embeddings], 'position_ids');
  for (let l = 0; l < t.num_hidden_layers; l++) {
    const p = `${P}encoder.layers.${l}`;
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) b.linear(`${p}.self_attn.${n}`, d, d);
    b.norm(`${p}.layer_norm1`, d);
    b.linear(`${p}.mlp.fc1`, d, t.intermediate_size);
    b.linear(`${p}.mlp.fc2`, t.intermediate_size, d);
    b.norm(`${p}.layer_norm2`, d);
  }
  b.norm(`${P}final_layer_norm`, d);
}

// open_clip TextTransformer (nn.MultiheadAttention packs q;k;v into in_proj_weight [3d, d]).
function openClipLayout(b: LayoutBuilder, t: CLIPTextConfig): void {
  const P = t.key_prefix;
  const d = t.hidden_size;
  b.add(`${P}token_embedding.weight`, [t.vocab_size, d], 'embedding');
  b.add(`${P}positional_embedding`, [t.max_position_embeddings, d], 'embedding');
  for (let l = 0; l < t.num_hidden_layers; l++) {
    const p = `${P}transformer.resblocks.${l}`;
    b.norm(`${p}.ln_1`, d);
    b.add(`${p}.attn.in_proj_weight`, [3 * d, d], 'weight');
    b.add(`${p}.attn.in_proj_bias`, [3 * d], 'bias');
    b.linear(`${p}.attn.out_proj`, d, d);
    b.norm(`${p}.ln_2`, d);
    b.linear(`${p}.mlp.c_fc`, d, t.intermediate_size);
    b.linear(`${p}.mlp.c_proj`, t.intermediate_size, d);
  }
  b.norm(`${P}ln_final`, d);
  if (t.projection_dim !== null) b.add(`${P}text_projection`, [d, t.projection_dim], 'projection');
  b.add(`${P}logit_scale`, [], 'logit_scale');
}
