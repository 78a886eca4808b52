/**
 * Which checkpoint weight a LoRA/LyCORIS module patches, with the behaviour of A1111 v1.10.1's builtin Lora
 * extension (learned from ../shared/fixtures/lora/README.md "Key mapping" and its index.json table; no A1111 code
 * is reused). A module name (the key up to its first '.') is rewritten by a table of diffusers → compvis rules,
 * then looked up among A1111's layer names: the ldm module path with '.' → '_', the text encoder under its
 * embedder wrapper (`transformer_text_model_…` for SD1, `model_transformer_…` for SD2, `0_…`/`1_…` for SDXL), the
 * UNet as `diffusion_model_…`. The block-index formulas assume SD1.5's layout (2 ResBlocks per level) whatever
 * the model, as A1111's do; compvis-named keys are reached through the `lora_unet` → `diffusion_model` fallback.
 */
import type { ModelConfig } from '../checkpoint/config.ts';

/** What a layer is to the weight math: a Linear/Conv2d weight, or the fused q/k/v of torch MultiheadAttention. */
export type TargetKind = 'linear' | 'conv' | 'mha';

export interface NetworkTarget {
  /** A1111's layer name (`diffusion_model_middle_block_1_proj_in`). */
  layer: string;
  /** The checkpoint key of the weight (`model.diffusion_model.middle_block.1.proj_in.weight`; `…attn.in_proj_weight` for MHA). */
  key: string;
  dims: readonly number[];
  kind: TargetKind;
  /** For `mha`: the checkpoint key of its `out_proj` weight (patched only together with q, k and v). */
  outKey?: string;
}

/** A1111 layer name → target, for one model. */
export type LayerIndex = ReadonlyMap<string, NetworkTarget>;

/** A parameter as graphs declare it (name = checkpoint key). */
export interface ParamLike {
  readonly name: string;
  readonly dims: readonly number[];
}

const UNET_PREFIX = 'model.diffusion_model.';

/** Token and position tables are Embeddings, which A1111 never patches. */
const isEmbedding = (key: string) => /(^|\.)(token_embedding|position_embedding)\.weight$/.test(key);

/** Whether a graph parameter is a weight networks can target (Linear/Conv2d weight, MultiheadAttention in_proj). */
export function isNetworkTarget(name: string, dims: readonly number[]): boolean {
  if (name.endsWith('.in_proj_weight')) return dims.length === 2;
  return name.endsWith('.weight') && (dims.length === 2 || dims.length === 4) && !isEmbedding(name);
}

/** A1111's prefix for text encoder `i`: the embedder wrapper's module path, plus `<n>_` under SDXL's conditioner. */
function textLayerPrefix(keyPrefix: string, layout: 'hf' | 'open_clip'): { keyPrefix: string; layerPrefix: string } {
  const embedder = /^conditioner\.embedders\.(\d+)\./.exec(keyPrefix);
  const wrapper = embedder ? `${embedder[1]}_` : '';
  // HF towers live under `transformer.text_model.` whatever the file's key layout; OpenCLIP under `model.`.
  return { keyPrefix, layerPrefix: layout === 'hf' ? `${wrapper}transformer_text_model_` : `${wrapper}model_` };
}

/** Builds the layer table of a model from the parameters its UNet and text-encoder graphs declare. */
export function buildLayerIndex(config: ModelConfig, params: Iterable<ParamLike>): LayerIndex {
  const prefixes = config.text_encoders.map((t) => textLayerPrefix(t.key_prefix, t.layout));
  const index = new Map<string, NetworkTarget>();
  for (const p of params) {
    if (!isNetworkTarget(p.name, p.dims)) continue;
    const layer = layerNameOf(p.name, prefixes);
    if (layer === null) continue;
    if (p.name.endsWith('.in_proj_weight')) {
      const outKey = p.name.replace(/in_proj_weight$/, 'out_proj.weight');
      index.set(layer, { layer, key: p.name, dims: p.dims, kind: 'mha', outKey });
    } else {
      index.set(layer, { layer, key: p.name, dims: p.dims, kind: p.dims.length === 4 ? 'conv' : 'linear' });
    }
  }
  return index;
}

function layerNameOf(key: string, prefixes: readonly { keyPrefix: string; layerPrefix: string }[]): string | null {
  const module = key.replace(/\.(weight|in_proj_weight)$/, '');
  if (key.startsWith(UNET_PREFIX)) return `diffusion_model_${module.slice(UNET_PREFIX.length).replaceAll('.', '_')}`;
  const text = prefixes.find((p) => key.startsWith(p.keyPrefix));
  return text ? text.layerPrefix + module.slice(text.keyPrefix.length).replaceAll('.', '_') : null;
}

/** ResBlock suffixes of diffusers names → ldm (`resnets` only; attention suffixes are kept). */
const RESNET_SUFFIX: Readonly<Record<string, string>> = {
  conv1: 'in_layers_2',
  conv2: 'out_layers_3',
  norm1: 'in_layers_0',
  norm2: 'out_layers_0',
  time_emb_proj: 'emb_layers_1',
  conv_shortcut: 'skip_connection',
};

const suffixOf = (kind: string, suffix: string) => (kind === 'resnets' ? (RESNET_SUFFIX[suffix] ?? suffix) : suffix);

/** OpenCLIP names for HF-style text-encoder suffixes (SD2 and SDXL's second tower). */
const openClipSuffix = (s: string) => s.replace('mlp_fc1', 'mlp_c_fc').replace('mlp_fc2', 'mlp_c_proj').replace('self_attn', 'attn');

type Rule = [RegExp, (m: RegExpExecArray, isSd2: boolean) => string | null];

/** The diffusers → compvis rules, tried in order and anchored at the start (A1111 uses re.match). */
const RULES: readonly Rule[] = [
  [/^lora_unet_conv_in(.*)/, (m) => `diffusion_model_input_blocks_0_0${m[1]}`],
  [/^lora_unet_conv_out(.*)/, (m) => `diffusion_model_out_2${m[1]}`],
  [/^lora_unet_time_embedding_linear_(\d+)(.*)/, (m) => `diffusion_model_time_embed_${Number(m[1]) * 2 - 2}${m[2]}`],
  [
    /^lora_unet_down_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)/,
    (m) => `diffusion_model_input_blocks_${1 + Number(m[1]) * 3 + Number(m[3])}_${m[2] === 'attentions' ? 1 : 0}_${suffixOf(m[2], m[4])}`,
  ],
  [
    /^lora_unet_mid_block_(attentions|resnets)_(\d+)_(.+)/,
    (m) => `diffusion_model_middle_block_${m[1] === 'attentions' ? 1 : Number(m[2]) * 2}_${suffixOf(m[1], m[3])}`,
  ],
  [
    /^lora_unet_up_blocks_(\d+)_(attentions|resnets)_(\d+)_(.+)/,
    (m) => `diffusion_model_output_blocks_${Number(m[1]) * 3 + Number(m[3])}_${m[2] === 'attentions' ? 1 : 0}_${suffixOf(m[2], m[4])}`,
  ],
  [/^lora_unet_down_blocks_(\d+)_downsamplers_0_conv/, (m) => `diffusion_model_input_blocks_${3 + Number(m[1]) * 3}_0_op`],
  [/^lora_unet_up_blocks_(\d+)_upsamplers_0_conv/, (m) => `diffusion_model_output_blocks_${2 + Number(m[1]) * 3}_${Number(m[1]) > 0 ? 2 : 1}_conv`],
  [
    /^lora_te_text_model_encoder_layers_(\d+)_(.+)/,
    (m, isSd2) => (isSd2 ? `model_transformer_resblocks_${m[1]}_${openClipSuffix(m[2])}` : `transformer_text_model_encoder_layers_${m[1]}_${m[2]}`),
  ],
  [/^lora_te2_text_model_encoder_layers_(\d+)_(.+)/, (m) => `1_model_transformer_resblocks_${m[1]}_${openClipSuffix(m[2])}`],
];

/** A1111 `convert_diffusers_name_to_compvis`: the first matching rule's result, else the name unchanged. */
export function convertDiffusersNameToCompvis(name: string, isSd2: boolean): string {
  for (const [re, rewrite] of RULES) {
    const m = re.exec(name);
    if (m) return rewrite(m, isSd2) ?? name;
  }
  return name;
}

/** Where one network module lands: the layer, and for `…_[qkv]_proj` names on a MultiheadAttention, which part. */
export interface ModuleMatch {
  /** The converted name A1111 files the module under (`…_attn_q_proj` stays distinct from `…_attn`). */
  sdKey: string;
  target: NetworkTarget;
  /** q/k/v of a fused in_proj; absent for a whole-layer match. */
  part?: 'q' | 'k' | 'v';
}

/**
 * A1111 `load_network`'s lookup for one module name: the converted name; else, for `…_[qkv]_proj`, the layer
 * without that suffix; else the compvis-named fallbacks (`lora_unet` → `diffusion_model`; `lora_te1_text_model` →
 * `0_transformer_text_model`, then `transformer_text_model`). Null when nothing matches (A1111 logs and skips it).
 */
export function matchModule(name: string, index: LayerIndex, isSd2: boolean): ModuleMatch | null {
  const converted = convertDiffusersNameToCompvis(name, isSd2);
  const direct = lookup(converted, index);
  if (direct) return direct;
  const candidates = name.includes('lora_unet')
    ? [name.replace('lora_unet', 'diffusion_model')]
    : name.includes('lora_te1_text_model')
      ? [name.replace('lora_te1_text_model', '0_transformer_text_model'), name.replace('lora_te1_text_model', 'transformer_text_model')]
      : [];
  for (const key of candidates) {
    // The fallbacks look the name up as is (no q/k/v split), as A1111 does.
    const target = index.get(key);
    if (target) return { sdKey: key, target };
  }
  return null;
}

function lookup(key: string, index: LayerIndex): ModuleMatch | null {
  const target = index.get(key);
  if (target) return { sdKey: key, target };
  const qkv = /^(.*)_([qkv])_proj$/.exec(key);
  const mha = qkv ? index.get(qkv[1]) : undefined;
  return mha && qkv ? { sdKey: key, target: mha, part: qkv[2] as 'q' | 'k' | 'v' } : null;
}

/** A1111 `NetworkModule.multiplier`: the text-encoder multiplier for layers with `transformer` in their first 20 characters. */
export function usesTextEncoderMultiplier(layer: string): boolean {
  return layer.slice(0, 20).includes('transformer');
}
