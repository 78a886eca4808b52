/**
 * What a ControlNet-folder file is, and for ControlNets the architecture, from key names and shapes only
 * (spec controlnet-api.md §10.3). The v1.1 layout (`control_model.*`, or the same keys bare) and the diffusers
 * layout (`controlnet_cond_embedding.*`, renamed here to the v1.1 names) are loaded; the other model types the
 * extension knows (T2I-Adapter, Control-LoRA, IP-Adapter, …) are recognised and refused by name. Unlike the
 * extension, which hard-codes the SD1.5 320-channel config, the encoder is inferred from shapes as for the UNet
 * (so test-scale models load too).
 */
import { basename, extname } from 'node:path';
import type { ControlNetConfig, ModelFamily, UNetConfig } from './config.ts';
import { scanLevels, unetHeads } from './detect-unet.ts';
import { KeyShapes } from './key-shapes.ts';
import type { TensorIndex } from './tensor-index.ts';

export interface DetectedControlNet {
  config: ControlNetConfig;
  /** v1.1 parameter name (`input_blocks.1.0.in_layers.2.weight`) → key in the file. */
  keyOf: (name: string) => string;
}

/** Model types of the ControlNet folder that are not (plain) ControlNets: first matching rule wins (§10.3 order). */
const OTHER_TYPES: [string, (has: (k: string) => boolean, keys: readonly string[]) => boolean][] = [
  ['a Control-LoRA', (has) => has('lora_controlnet')],
  ['a SparseCtrl model', (has) => has('down_blocks.0.motion_modules.0.temporal_transformer.norm.weight')],
  ['a diffusers T2I-Adapter', (has) => has('adapter.body.0.resnets.0.block1.weight')],
  ['an IP-Adapter', (_, keys) => keys.some((k) => k.startsWith('image_proj.')) && keys.some((k) => k.startsWith('ip_adapter.'))],
];

const LATER_TYPES: [string, (has: (k: string) => boolean, keys: readonly string[]) => boolean][] = [
  ['a T2I-Adapter', (has) => has('conv_in.weight')],
  ['a T2I style adapter', (_, keys) => keys.some((k) => k.includes('style_embedding'))],
  ['a T2I-Adapter (light)', (has) => has('body.0.in_conv.weight')],
  ['an IP-Adapter', (_, keys) => keys.some((k) => k.startsWith('ip_adapter'))],
  ['a ControlLLLite model', (_, keys) => keys.some((k) => k.includes('lllite'))],
];

/**
 * Detects a ControlNet's architecture.
 * @throws UnsupportedModelError naming the model type when the file is another kind of control model.
 */
export function detectControlNet(index: TensorIndex): DetectedControlNet {
  const s0 = new KeyShapes(index);
  const fileKeys = index.keys();
  const set = new Set(fileKeys);
  const refused = OTHER_TYPES.find(([, test]) => test((k) => set.has(k), fileKeys));
  if (refused) throw s0.unsupported(`${refused[0]} is not supported (only ControlNet v1.0/v1.1 and diffusers ControlNet files are)`);
  const diffusers = set.has('controlnet_cond_embedding.conv_in.weight');
  const names = diffusers ? diffusersNames(fileKeys) : strippedNames(fileKeys);
  const renamed = renamedIndex(index, names);
  const s = new KeyShapes(renamed);
  if (!s.has('input_hint_block.0.weight')) {
    const other = LATER_TYPES.find(([, test]) => test((k) => s.has(k), renamed.keys()));
    if (other) throw s0.unsupported(`${other[0]} is not supported (only ControlNet v1.0/v1.1 and diffusers ControlNet files are)`);
    throw s0.unsupported('[ControlNet Error] Cannot recognize the ControlModel! (no input_hint_block.0.weight)');
  }
  if (s.has('difference')) throw s0.unsupported('a "difference" ControlNet (weights stored as deltas to a base UNet) is not supported');
  if (s.hasPrefix('control_add_embedding.')) throw s0.unsupported('ControlNet-Union (ProMax) models are not supported');
  const config: ControlNetConfig = {
    unet: encoderConfig(s),
    hint_channels: s.need('input_hint_block.0.weight', 'ControlNet hint block')[1],
    global_average_pooling: index.path !== undefined && basename(index.path, extname(index.path)).includes('shuffle'),
    layout: diffusers ? 'diffusers' : 'ldm',
  };
  return { config, keyOf: (name) => names.get(name) ?? name };
}

/**
 * The extension removes the substrings `control_model.` and `adapter.` from every key (§10.3 step 6); a v1.0
 * file's `model.diffusion_model.*` copy of the base UNet is ignored.
 */
function strippedNames(keys: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of keys) if (!key.startsWith('model.diffusion_model.')) out.set(key.replaceAll('control_model.', '').replaceAll('adapter.', ''), key);
  return out;
}

/** A TensorIndex over the v1.1 names (`names`: v1.1 name → file key). */
function renamedIndex(index: TensorIndex, names: Map<string, string>): TensorIndex {
  return { keys: () => [...names.keys()], info: (name) => index.info(names.get(name) ?? name), metadata: index.metadata, path: index.path };
}

function encoderConfig(s: KeyShapes): UNetConfig {
  const convIn = s.need('input_blocks.0.0.weight', 'ControlNet conv_in');
  const mc = convIn[0];
  const levels = scanLevels(s, '');
  const nrb = levels[0].resBlocks;
  if (levels.some((l) => l.resBlocks !== nrb || l.out % mc !== 0))
    throw s.unsupported(`ControlNet levels are irregular (${levels.map((l) => `${l.out}×${l.resBlocks}`).join(', ')})`);
  const attnKey = s.find('', '.attn2.to_k.weight');
  const projIn = s.find('', '.proj_in.weight');
  if (!attnKey || !projIn) throw s.unsupported('ControlNet has no cross-attention (attn2) blocks');
  const shape = {
    in_channels: convIn[1],
    out_channels: convIn[1],
    model_channels: mc,
    attention_resolutions: levels.flatMap((l, i) => (l.depth > 0 ? [2 ** i] : [])).reverse(),
    num_res_blocks: nrb,
    channel_mult: levels.map((l) => l.out / mc),
    transformer_depth: levels.map((l) => l.depth),
    transformer_depth_middle: s.indices('middle_block.1.transformer_blocks.').length,
    context_dim: s.need(attnKey, 'ControlNet cross-attention')[1],
    use_linear_in_transformer: s.need(projIn, 'ControlNet proj_in').length === 2,
    adm_in_channels: s.shape('label_emb.0.0.weight')?.[1] ?? null,
  };
  // Head counts are not in the weights: the base UNet's rule (ldm YAMLs: SD1 8 heads, SD2/SDXL 64-wide heads).
  const family: ModelFamily = shape.adm_in_channels !== null ? 'sdxl' : shape.context_dim === 1024 ? 'sd2' : 'sd1';
  return { ...shape, ...unetHeads(s, family, shape, {}) };
}

/**
 * diffusers ControlNetModel keys → v1.1 names (the inverse of diffusers' convert_original_controlnet_to_diffusers):
 * conv_in / time_embedding / add_embedding / down_blocks / mid_block / controlnet_cond_embedding /
 * controlnet_down_blocks / controlnet_mid_block.
 */
function diffusersNames(keys: readonly string[]): Map<string, string> {
  const nrb = new Set(keys.filter((k) => k.startsWith('down_blocks.0.resnets.')).map((k) => k.split('.')[3])).size;
  const out = new Map<string, string>();
  for (const key of keys) {
    const name = diffusersToLdm(key, nrb);
    if (name) out.set(name, key);
  }
  return out;
}

const RESNET: Record<string, string> = {
  norm1: 'in_layers.0',
  conv1: 'in_layers.2',
  time_emb_proj: 'emb_layers.1',
  norm2: 'out_layers.0',
  conv2: 'out_layers.3',
  conv_shortcut: 'skip_connection',
};

/** One diffusers key → its v1.1 name (null for keys the ControlNet does not use). */
export function diffusersToLdm(key: string, nrb: number): string | null {
  const res = (part: string): string => RESNET[part] ?? `?${part}`; // an unknown part makes a name no graph asks for
  const simple: [RegExp, (m: RegExpExecArray) => string][] = [
    [/^conv_in\.(.+)$/, (m) => `input_blocks.0.0.${m[1]}`],
    [/^time_embedding\.linear_(\d)\.(.+)$/, (m) => `time_embed.${(Number(m[1]) - 1) * 2}.${m[2]}`],
    [/^add_embedding\.linear_(\d)\.(.+)$/, (m) => `label_emb.0.${(Number(m[1]) - 1) * 2}.${m[2]}`],
    [/^controlnet_cond_embedding\.conv_in\.(.+)$/, (m) => `input_hint_block.0.${m[1]}`],
    [/^controlnet_cond_embedding\.blocks\.(\d+)\.(.+)$/, (m) => `input_hint_block.${2 * (Number(m[1]) + 1)}.${m[2]}`],
    [/^controlnet_cond_embedding\.conv_out\.(.+)$/, (m) => `input_hint_block.14.${m[1]}`],
    [/^controlnet_down_blocks\.(\d+)\.(.+)$/, (m) => `zero_convs.${m[1]}.0.${m[2]}`],
    [/^controlnet_mid_block\.(.+)$/, (m) => `middle_block_out.0.${m[1]}`],
    [/^mid_block\.attentions\.0\.(.+)$/, (m) => `middle_block.1.${m[1]}`],
    [/^mid_block\.resnets\.(\d)\.([a-z_0-9]+)\.(.+)$/, (m) => `middle_block.${2 * Number(m[1])}.${res(m[2])}.${m[3]}`],
    [/^down_blocks\.(\d+)\.resnets\.(\d+)\.([a-z_0-9]+)\.(.+)$/, (m) => `input_blocks.${1 + Number(m[1]) * (nrb + 1) + Number(m[2])}.0.${res(m[3])}.${m[4]}`],
    [/^down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)$/, (m) => `input_blocks.${1 + Number(m[1]) * (nrb + 1) + Number(m[2])}.1.${m[3]}`],
    [/^down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/, (m) => `input_blocks.${(Number(m[1]) + 1) * (nrb + 1)}.0.op.${m[2]}`],
  ];
  for (const [re, to] of simple) {
    const m = re.exec(key);
    if (m) return to(m);
  }
  return null;
}
