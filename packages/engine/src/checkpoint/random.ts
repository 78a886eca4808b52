/**
 * The embedded default model: deterministic, seeded random-weight checkpoints in the original LDM key layout,
 * so the server runs end to end with no download. The images are noise (the weights were never trained); the
 * point is exercising every op with realistic shapes. Weights ~ N(0, 1/fan_in) (LeCun normal), biases 0, norms
 * 1/0, embeddings N(0, 1) (torch.nn.Embedding's default), the schedule buffers exact. Each tensor draws from its
 * own stream seeded by (seed, name), so values do not depend on tensor order, chunking or dtype.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { ModelConfig } from './config.ts';
import { METADATA_KEYS } from './detect.ts';
import { float16Bytes } from './float16.ts';
import { checkpointLayout, type TensorSpec } from './layout.ts';
import { DTYPE_BYTES, type DType, float32Bytes } from './safetensors.ts';
import { numel } from './tensor-index.ts';

export const RANDOM_WEIGHTS_DESCRIPTION = 'random weights: draws noise, not pictures';

export interface RandomCheckpointOptions {
  /** Storage type of the weights (schedule buffers stay F32, position_ids I64). Default F32. */
  dtype?: 'F32' | 'F16';
  /** Extra `__metadata__` entries (override ours). */
  metadata?: Record<string, string>;
}

export interface WrittenCheckpoint {
  path: string;
  tensors: number;
  parameters: number;
  bytes: number;
}

/** Elements generated per write: bounds memory (4 MiB of float32) whatever the model size. */
const CHUNK = 1 << 20;

/** mulberry32 (T. Ettinger, public domain): 32-bit state, uint32 outputs; ample for initial weights. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** FNV-1a of the tensor name mixed with both halves of the seed, then murmur3's finaliser. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fills `out` with N(0, std²) by the Box–Muller transform (pairs; a trailing odd slot drops its twin). */
function fillNormal(out: Float32Array, next: () => number, std: number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = (next() + 1) / 4294967296; // (0, 1]: log never sees 0
    const u2 = next() / 4294967296;
    const r = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
}

/** Standard deviation of a normally initialised tensor, or null for constant ones. */
function initStd(spec: TensorSpec): number | null {
  switch (spec.init) {
    case 'weight':
      return 1 / Math.sqrt(numel(spec.shape.slice(1))); // fan_in of [out, in, kh, kw] / [out, in]
    case 'projection':
      return 1 / Math.sqrt(spec.shape[0]); // text_projection is used as x @ P: fan_in is rows
    case 'embedding':
      return 1;
    default:
      return null;
  }
}

const CONSTANTS: Partial<Record<TensorSpec['init'], number>> = { bias: 0, zeros: 0, ones: 1, logit_scale: Math.log(1 / 0.07) };

function storageDtype(spec: TensorSpec, dtype: 'F32' | 'F16'): DType {
  if (spec.init === 'position_ids') return 'I64';
  // Schedule buffers are tiny and precision-sensitive (alphas_cumprod near 0): keep float32.
  return spec.init === 'buffer' ? 'F32' : dtype;
}

/** The bytes of one tensor, chunk by chunk. */
function* tensorChunks(spec: TensorSpec, dtype: DType, seed: number): Generator<Uint8Array> {
  const n = numel(spec.shape);
  if (spec.init === 'position_ids') {
    yield new Uint8Array(BigInt64Array.from({ length: n }, (_, i) => BigInt(i)).buffer);
    return;
  }
  const encode = (v: Float32Array) => (dtype === 'F16' ? float16Bytes(v) : float32Bytes(v));
  if (spec.values) {
    yield encode(Float32Array.from(spec.values));
    return;
  }
  const std = initStd(spec);
  const next = mulberry32(streamSeed(seed, spec.name));
  for (let start = 0; start < n; start += CHUNK) {
    const values = new Float32Array(Math.min(CHUNK, n - start));
    if (std === null) values.fill(CONSTANTS[spec.init] ?? 0);
    else fillNormal(values, next, std);
    yield encode(values);
  }
}

/** `__metadata__` of a random checkpoint: what it is, and the hyper-parameters the shapes cannot carry. */
export function randomCheckpointMetadata(config: ModelConfig, seed: number): Record<string, string> {
  const heads: Record<string, string> =
    config.unet.num_heads > 0
      ? { [METADATA_KEYS.numHeads]: String(config.unet.num_heads) }
      : { [METADATA_KEYS.numHeadChannels]: String(config.unet.num_head_channels) };
  return {
    format: 'pt',
    'sdapi.description': RANDOM_WEIGHTS_DESCRIPTION,
    'sdapi.seed': String(seed),
    [METADATA_KEYS.predictionType]: config.prediction_type,
    ...heads,
    [METADATA_KEYS.textNumHeads]: config.text_encoders.map((t) => t.num_attention_heads).join(','),
  };
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

function headerBytes(specs: TensorSpec[], dtypes: DType[], metadata: Record<string, string>): { bytes: Buffer; dataBytes: number } {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  specs.forEach((spec, i) => {
    const size = numel(spec.shape) * DTYPE_BYTES[dtypes[i]];
    header[spec.name] = { dtype: dtypes[i], shape: spec.shape, data_offsets: [offset, offset + size] };
    offset += size;
  });
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - ((8 + Buffer.byteLength(text)) % 8)) % 8); // 8-byte aligned data section
  const body = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(body.length));
  return { bytes: Buffer.concat([length, body]), dataBytes: offset };
}

/**
 * Writes a seeded random-weight checkpoint for `config` in the LDM single-file layout, streaming (memory stays
 * at a few MiB even for the 4 GB full-size SD1.5). The file appears atomically (written beside it, then renamed).
 * @example
 *   writeRandomCheckpoint('models/Stable-diffusion/random-tiny.safetensors', TINY_SD15_CONFIG, 42);
 */
export function writeRandomCheckpoint(path: string, config: ModelConfig, seed: number, opts: RandomCheckpointOptions = {}): WrittenCheckpoint {
  const specs = checkpointLayout(config);
  const dtypes = specs.map((s) => storageDtype(s, opts.dtype ?? 'F32'));
  const { bytes: header, dataBytes } = headerBytes(specs, dtypes, { ...randomCheckpointMetadata(config, seed), ...opts.metadata });
  const partial = `${path}.partial-${process.pid}`;
  let fd: number | null = openSync(partial, 'w');
  try {
    writeAll(fd, header);
    specs.forEach((spec, i) => {
      for (const chunk of tensorChunks(spec, dtypes[i], seed)) writeAll(fd as number, chunk);
    });
    closeSync(fd);
    fd = null;
    renameSync(partial, path);
  } catch (error) {
    if (fd !== null) closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  const parameters = specs.reduce((sum, s) => sum + numel(s.shape), 0);
  return { path, tensors: specs.length, parameters, bytes: header.length + dataBytes };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A small SD1.5-architecture model for the embedded default: fast on CPU from 64×64 to 512×512. model_channels 64
 * (32 would leave GroupNorm(32) one channel per group and normalise the time embedding away), two levels with
 * attention only at the half-resolution one (a 64×64 latent has 4096 tokens), the fixtures' VAE (factor 8), and a
 * 4-layer, 64-wide CLIP with the real vocabulary and 77 positions so any prompt tokenises as for SD1.5.
 */
export const TINY_SD15_CONFIG: ModelConfig = deepFreeze({
  family: 'sd1',
  prediction_type: 'epsilon',
  unet: {
    in_channels: 4,
    out_channels: 4,
    model_channels: 64,
    attention_resolutions: [2],
    num_res_blocks: 1,
    channel_mult: [1, 2],
    num_heads: 2,
    num_head_channels: -1,
    transformer_depth: [0, 1],
    transformer_depth_middle: 1,
    context_dim: 64,
    use_linear_in_transformer: false,
    adm_in_channels: null,
  },
  vae: { ch: 32, ch_mult: [1, 2, 2, 2], num_res_blocks: 1, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, scale_factor: 0.18215 },
  text_encoders: [
    {
      key_prefix: 'cond_stage_model.transformer.text_model.',
      layout: 'hf',
      vocab_size: 49408,
      hidden_size: 64,
      intermediate_size: 256,
      num_hidden_layers: 4,
      num_attention_heads: 2,
      max_position_embeddings: 77,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      projection_dim: null,
    },
  ],
  schedule: { linear_start: 0.00085, linear_end: 0.012, num_train_timesteps: 1000 },
});

/** Full-size SD1.5 (configs/stable-diffusion/v1-inference.yaml): 859.5M UNet, CLIP ViT-L/14 text, 83.7M VAE. */
export const SD15_CONFIG: ModelConfig = deepFreeze({
  family: 'sd1',
  prediction_type: 'epsilon',
  unet: {
    in_channels: 4,
    out_channels: 4,
    model_channels: 320,
    attention_resolutions: [4, 2, 1],
    num_res_blocks: 2,
    channel_mult: [1, 2, 4, 4],
    num_heads: 8,
    num_head_channels: -1,
    transformer_depth: [1, 1, 1, 0],
    transformer_depth_middle: 1,
    context_dim: 768,
    use_linear_in_transformer: false,
    adm_in_channels: null,
  },
  vae: { ch: 128, ch_mult: [1, 2, 4, 4], num_res_blocks: 2, z_channels: 4, embed_dim: 4, in_channels: 3, out_ch: 3, scale_factor: 0.18215 },
  text_encoders: [
    {
      key_prefix: 'cond_stage_model.transformer.text_model.',
      layout: 'hf',
      vocab_size: 49408,
      hidden_size: 768,
      intermediate_size: 3072,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      max_position_embeddings: 77,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      projection_dim: null,
    },
  ],
  schedule: { linear_start: 0.00085, linear_end: 0.012, num_train_timesteps: 1000 },
});
