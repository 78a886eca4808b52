/**
 * UNet hyper-parameters from key names and shapes, for ldm/sgm `openaimodel.UNetModel` checkpoints
 * (`model.diffusion_model.*`). Block structure follows UNetModel.__init__
 * (ldm/modules/diffusionmodules/openaimodel.py): input block 0 is conv_in, each level has num_res_blocks
 * ResBlocks (+ a SpatialTransformer where attention is on), levels are separated by a Downsample (`.0.op`).
 */
import type { ModelFamily, UNetConfig } from './config.ts';
import type { KeyShapes } from './key-shapes.ts';

export const UNET_PREFIX = 'model.diffusion_model.';

/** Every released SD UNet has model_channels 320 (SDXL refiner 384); anything narrower is a test-scale toy. */
export const REAL_SCALE_MIN_CHANNELS = 256;

export interface Level {
  out: number;
  resBlocks: number;
  depth: number;
}

/** Walks input_blocks 1..N under `prefix` (a ControlNet passes its own) and groups them into levels at each Downsample. */
export function scanLevels(s: KeyShapes, prefix = UNET_PREFIX): Level[] {
  const blocks = s.indices(`${prefix}input_blocks.`);
  if (blocks.length < 2 || blocks.some((b, i) => b !== i)) {
    throw s.unsupported(`UNet input_blocks are not numbered 0..N (found ${blocks.slice(0, 8).join(', ')}…)`);
  }
  const levels: Level[] = [];
  let current: Level | null = null;
  for (const i of blocks.slice(1)) {
    const p = `${prefix}input_blocks.${i}.`;
    if (s.has(`${p}0.op.weight`)) {
      if (!current) throw s.unsupported(`UNet input_blocks.${i} is a Downsample with no ResBlock before it`);
      levels.push(current);
      current = null;
      continue;
    }
    const out = s.need(`${p}0.out_layers.3.weight`, `UNet input_blocks.${i} ResBlock`)[0];
    const depth = s.has(`${p}1.proj_in.weight`) ? s.indices(`${p}1.transformer_blocks.`).length : 0;
    if (!current) current = { out, resBlocks: 0, depth };
    else if (current.out !== out || current.depth !== depth) {
      throw s.unsupported(
        `UNet level ${levels.length} mixes block widths or transformer depths (input_blocks.${i}: ${out} channels, depth ${depth}; earlier: ${current.out}, depth ${current.depth})`,
      );
    }
    current.resBlocks++;
  }
  if (current) levels.push(current);
  return levels;
}

/** Structure-only UNet config; the head fields are filled by `unetHeads`. */
export function detectUNetShape(s: KeyShapes): Omit<UNetConfig, 'num_heads' | 'num_head_channels'> {
  const P = UNET_PREFIX;
  const convIn = s.need(`${P}input_blocks.0.0.weight`, 'UNet conv_in');
  const mc = convIn[0];
  const temb = s.need(`${P}time_embed.0.weight`, 'UNet time embedding');
  if (temb[0] !== 4 * mc) throw s.unsupported(`UNet time_embed width ${temb[0]} is not 4 × model_channels (${mc})`);
  const levels = scanLevels(s);
  const nrb = levels[0].resBlocks;
  if (levels.some((l) => l.resBlocks !== nrb))
    throw s.unsupported(
      `UNet levels have different ResBlock counts (${levels.map((l) => l.resBlocks).join(', ')}); only one num_res_blocks for all levels is supported`,
    );
  if (levels.some((l) => l.out % mc !== 0))
    throw s.unsupported(`UNet level widths ${levels.map((l) => l.out).join(', ')} are not multiples of model_channels ${mc}`);
  const outputs = s.indices(`${P}output_blocks.`).length;
  if (outputs !== levels.length * (nrb + 1)) throw s.unsupported(`UNet has ${outputs} output_blocks; ${levels.length} levels × ${nrb + 1} expected`);
  const attnKey = s.find(P, '.attn2.to_k.weight');
  const projIn = s.find(P, '.proj_in.weight');
  if (!attnKey || !projIn) throw s.unsupported('UNet has no cross-attention (attn2) blocks; it is not a text-conditioned SD UNet');
  if (!s.has(`${P}middle_block.1.proj_in.weight`)) throw s.unsupported('UNet middle_block.1 is not a SpatialTransformer');
  return {
    in_channels: convIn[1],
    out_channels: s.need(`${P}out.2.weight`, 'UNet conv_out')[0],
    model_channels: mc,
    // ldm YAMLs list downsampling factors high to low ([4, 2, 1]); level L sits at factor 2^L.
    attention_resolutions: levels.flatMap((l, i) => (l.depth > 0 ? [2 ** i] : [])).reverse(),
    num_res_blocks: nrb,
    channel_mult: levels.map((l) => l.out / mc),
    // Depth is observable only where transformers exist; levels without attention report 0 (as SDXL's [0, 2, 10]).
    transformer_depth: levels.map((l) => l.depth),
    transformer_depth_middle: s.indices(`${P}middle_block.1.transformer_blocks.`).length,
    context_dim: s.need(attnKey, 'UNet cross-attention')[1],
    use_linear_in_transformer: s.need(projIn, 'UNet proj_in').length === 2,
    adm_in_channels: s.shape(`${P}label_emb.0.0.weight`)?.[1] ?? null,
  };
}

/** Widths of the levels (and the middle block) that carry attention. */
export function attentionWidths(u: Omit<UNetConfig, 'num_heads' | 'num_head_channels'>): number[] {
  const widths = u.channel_mult.flatMap((m, i) => (u.transformer_depth[i] > 0 ? [m * u.model_channels] : []));
  return [...widths, u.channel_mult[u.channel_mult.length - 1] * u.model_channels];
}

export interface HeadOverride {
  numHeads?: number;
  numHeadChannels?: number;
}

/**
 * The head count is not in the weights (q/k/v are [C, C] whatever the split). Rule, first match wins:
 * 1. an explicit override (option, or `__metadata__` `sdapi.num_heads` / `sdapi.num_head_channels`);
 * 2. real scale (model_channels ≥ 256, every released model): the ldm YAMLs — SD1 a fixed 8 heads,
 *    SD2/SDXL 64-channel heads;
 * 3. toy scale (test models such as the oracle fixtures and our TINY preset): 2 heads at the narrowest
 *    attention level — SD1 as a fixed count of 2, SD2/SDXL as head width = narrowest width / 2.
 */
export function unetHeads(
  s: KeyShapes,
  family: ModelFamily,
  u: Omit<UNetConfig, 'num_heads' | 'num_head_channels'>,
  override: HeadOverride,
): Pick<UNetConfig, 'num_heads' | 'num_head_channels'> {
  const widths = attentionWidths(u);
  let heads: Pick<UNetConfig, 'num_heads' | 'num_head_channels'>;
  if (override.numHeads !== undefined) heads = { num_heads: override.numHeads, num_head_channels: -1 };
  else if (override.numHeadChannels !== undefined) heads = { num_heads: -1, num_head_channels: override.numHeadChannels };
  else if (family === 'sd1') heads = { num_heads: u.model_channels >= REAL_SCALE_MIN_CHANNELS ? 8 : 2, num_head_channels: -1 };
  else heads = { num_heads: -1, num_head_channels: u.model_channels >= REAL_SCALE_MIN_CHANNELS ? 64 : Math.min(...widths) / 2 };
  const split = heads.num_heads > 0 ? heads.num_heads : heads.num_head_channels;
  const bad = widths.find((w) => !(Number.isInteger(split) && split > 0 && w % split === 0));
  if (bad !== undefined) {
    const what = heads.num_heads > 0 ? `${heads.num_heads} heads` : `${heads.num_head_channels}-channel heads`;
    throw s.unsupported(
      `cannot split UNet attention width ${bad} into ${what} (attention widths ${widths.join(', ')}); set __metadata__ 'sdapi.num_heads' or 'sdapi.num_head_channels', or pass the numHeads / numHeadChannels option`,
    );
  }
  return heads;
}
