/**
 * Human-readable summary of a checkpoint for `sdapi inspect` (in the spirit of sd.cpp's `sd_ctx_params_to_str`):
 * detected family and prediction type (with the reason), UNet/VAE/CLIP configs, parameter counts per key prefix,
 * dtypes, tensor counts, keys the detected layout does not explain, and the header metadata. A file that is not a
 * checkpoint (a LoRA, a ControlNet) still gets its statistics, with the detection error in place of the config.
 */
import { statSync } from 'node:fs';
import type { CLIPTextConfig, ModelConfig, UNetConfig, VAEConfig } from './config.ts';
import { type DetectOptions, decidePrediction, detectModel } from './detect.ts';
import { checkpointLayout } from './layout.ts';
import { SafetensorsFile } from './safetensors.ts';
import { numel, type TensorIndex } from './tensor-index.ts';

/** Multi-segment prefixes reported as one group; anything else is grouped by its first segment. */
const GROUPS = [
  'model.diffusion_model',
  'first_stage_model',
  'cond_stage_model',
  'conditioner.embedders.0',
  'conditioner.embedders.1',
  'model_ema',
  'control_model',
];
const MAX_METADATA_CHARS = 120;

const int = (n: number) => n.toLocaleString('en-US');
const list = (xs: readonly number[]) => `[${xs.join(', ')}]`;

/** Summary of the file at `path` (opens and closes it). */
export function describeCheckpoint(path: string, opts: DetectOptions = {}): string {
  const file = SafetensorsFile.open(path);
  try {
    const header = `file      ${path} (${(statSync(path).size / 1e6).toFixed(1)} MB)`;
    return [header, ...describeIndex(file, opts)].join('\n');
  } finally {
    file.close();
  }
}

/** The summary lines of any TensorIndex (a file or a shape table). */
export function describeIndex(index: TensorIndex, opts: DetectOptions = {}): string[] {
  const lines: string[] = [];
  let config: ModelConfig | null = null;
  try {
    config = detectModel(index, opts);
    lines.push(...describeConfig(index, config, opts));
  } catch (error) {
    lines.push(`model     not loadable: ${(error as Error).message}`);
  }
  lines.push(...describeTensors(index, config));
  const meta = Object.entries(index.metadata ?? {});
  lines.push(`metadata  ${meta.length === 0 ? '(none)' : meta.map(([k, v]) => `${k}=${clip(String(v))}`).join('\n          ')}`);
  return lines;
}

function clip(text: string): string {
  return text.length > MAX_METADATA_CHARS ? `${text.slice(0, MAX_METADATA_CHARS)}… (${text.length} chars)` : text;
}

function describeConfig(index: TensorIndex, c: ModelConfig, opts: DetectOptions): string[] {
  const prediction = decidePrediction(index, c.family, c.unet, opts);
  return [
    `family    ${c.family}, prediction ${c.prediction_type} (${prediction.reason})`,
    `unet      ${describeUNet(c.unet)}`,
    `vae       ${describeVAE(c.vae)}`,
    ...c.text_encoders.map((t, i) => `text[${i}]   ${describeText(t)}`),
    `schedule  linear ${c.schedule.linear_start} → ${c.schedule.linear_end}, ${c.schedule.num_train_timesteps} steps`,
  ];
}

function describeUNet(u: UNetConfig): string {
  const heads = u.num_heads > 0 ? `${u.num_heads} heads` : `${u.num_head_channels}-channel heads`;
  return [
    `model_channels ${u.model_channels}, channel_mult ${list(u.channel_mult)}, num_res_blocks ${u.num_res_blocks}`,
    `attention at ds ${list(u.attention_resolutions)} (${heads}, depth ${list(u.transformer_depth)}, middle ${u.transformer_depth_middle})`,
    `context ${u.context_dim}, proj_in ${u.use_linear_in_transformer ? 'linear' : 'conv 1×1'}, adm ${u.adm_in_channels ?? 'none'}, in ${u.in_channels} → out ${u.out_channels}`,
  ].join('; ');
}

function describeVAE(v: VAEConfig): string {
  return `ch ${v.ch}, ch_mult ${list(v.ch_mult)}, num_res_blocks ${v.num_res_blocks}, z ${v.z_channels}, embed ${v.embed_dim}, scale_factor ${v.scale_factor}`;
}

function describeText(t: CLIPTextConfig): string {
  const projection = t.projection_dim === null ? '' : `, projection ${t.projection_dim}`;
  return `${t.layout === 'hf' ? 'HF CLIP' : 'OpenCLIP'} at ${t.key_prefix}: ${t.num_hidden_layers} layers × ${t.hidden_size} (${t.num_attention_heads} heads), mlp ${t.intermediate_size}, vocab ${t.vocab_size}, ${t.max_position_embeddings} positions, ${t.hidden_act}${projection}`;
}

function groupOf(name: string): string {
  const known = GROUPS.find((g) => name.startsWith(`${g}.`));
  if (known) return known;
  // kohya network keys flatten the module path into one segment: group by network part instead.
  const network = /^(lora_(unet|te\d?)|lycoris)_/.exec(name);
  if (network) return `${network[1]}_*`;
  return name.includes('.') ? name.slice(0, name.indexOf('.')) : '(top level)';
}

function describeTensors(index: TensorIndex, config: ModelConfig | null): string[] {
  const keys = index.keys();
  const params = new Map<string, number>();
  const dtypes = new Map<string, number>();
  for (const key of keys) {
    const { shape, dtype } = index.info(key);
    params.set(groupOf(key), (params.get(groupOf(key)) ?? 0) + numel(shape));
    dtypes.set(dtype, (dtypes.get(dtype) ?? 0) + 1);
  }
  const total = [...params.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `params    ${int(total)} total: ${[...params].map(([g, n]) => `${g} ${int(n)}`).join(', ')}`,
    `dtypes    ${[...dtypes].map(([d, n]) => `${d} × ${n}`).join(', ')}`,
  ];
  if (!config) return [...lines, `tensors   ${keys.length}`];
  const expected = new Set(checkpointLayout(config).map((s) => s.name));
  const present = new Set(keys);
  const unknown = keys.filter((k) => !expected.has(k));
  const missing = [...expected].filter((k) => !present.has(k));
  const sample = (xs: string[]) => (xs.length ? ` (${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ', …' : ''})` : '');
  return [
    ...lines,
    `tensors   ${keys.length}: ${keys.length - unknown.length} in the detected layout, ${unknown.length} unknown (ignored)${sample(unknown)}, ${missing.length} of the layout absent${sample(missing)}`,
  ];
}
