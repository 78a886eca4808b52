/**
 * The flags `sdapi serve` and `sdapi worker` share: where the models live and how the engine runs. A worker runs
 * the jobs an API node queued, so it takes the same model folders (a LoRA named in a prompt is looked up on the
 * worker) and the same engine settings.
 */
import { resolve } from 'node:path';
import type { WorkerGenerator } from '@sdapi/server';
import { ONNX_CACHE_FLAG, onnxCacheHelp, onnxCacheMaxBytes, positiveFlag } from './flags.ts';

export const ENGINE_OPTIONS = {
  ckpt: { type: 'string' },
  'ckpt-dir': { type: 'string' },
  'data-dir': { type: 'string', default: '.' },
  'embeddings-dir': { type: 'string' },
  'controlnet-dir': { type: 'string' },
  'lora-dir': { type: 'string' },
  'vae-dir': { type: 'string' },
  'styles-file': { type: 'string', multiple: true },
  'no-hashing': { type: 'boolean' },
  threads: { type: 'string' },
  'low-memory': { type: 'boolean' },
  'engine-thread': { type: 'boolean' },
  int8: { type: 'boolean' },
  ...ONNX_CACHE_FLAG,
} as const;

export const ENGINE_HELP = `  --ckpt FILE            a .safetensors checkpoint, listed first and loaded by default
  --ckpt-dir DIR         another folder of checkpoints
  --data-dir DIR         config.json, cache.json, models/, outputs live here (default: current directory)
  --embeddings-dir DIR   textual-inversion embeddings (default: <data-dir>/embeddings)
  --controlnet-dir DIR   ControlNet models besides <data-dir>/models/ControlNet
  --lora-dir DIR         LoRA/LyCORIS files besides <data-dir>/models/Lora and models/LyCORIS (subfolders too)
  --vae-dir DIR          VAE files (.safetensors) besides <data-dir>/models/VAE, for option sd_vae
  --styles-file FILE     a styles.csv (repeatable; * and ? in the file name; default: <data-dir>/styles.csv)
  --no-hashing           do not compute checkpoint SHA-256 hashes
  --threads N            threads per ONNX operator (default: all cores)
  --low-memory           release the UNet before every VAE decode (each batch, and hires fix's first pass
                         with a pixel upscaler) and load it again from the ONNX cache, about a second for
                         SD1.5, when sampling goes on; with an F16 checkpoint its 3×3 conv weights are held
                         as float16 too (a few % slower, pixels within 2 levels)
  --engine-thread        run the engine in a worker thread of this process. Without it the engine runs in a
                         child process of its own, which gives all its memory back on /unload-checkpoint and
                         whose crash fails only the job in flight
  --int8                 the UNet's Linear layers and convolutions in int8: about 1.9× faster, slightly different images (see README)
${onnxCacheHelp()}`;

type EngineValues = {
  [K in keyof typeof ENGINE_OPTIONS]?: (typeof ENGINE_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof ENGINE_OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** What the engine flags set up (bad values are CliErrors, thrown before anything is written). */
export interface EngineSettings {
  dataDir: string;
  generator: ConstructorParameters<typeof WorkerGenerator>[0];
  controlnetDir: string | null;
  /** undefined: `<data-dir>/styles.csv`. */
  stylesFiles: string[] | undefined;
}

export function engineSettings(values: EngineValues, log: (line: string) => void): EngineSettings {
  const path = (p: string | undefined) => (p ? resolve(p) : null);
  const dataDir = resolve(values['data-dir'] ?? '.');
  return {
    dataDir,
    generator: {
      dataDir,
      isolation: values['engine-thread'] ? 'thread' : 'process',
      lowMemory: values['low-memory'],
      ckpt: path(values.ckpt),
      ckptDir: path(values['ckpt-dir']),
      embeddingsDir: path(values['embeddings-dir']),
      loraDir: path(values['lora-dir']),
      vaeDir: path(values['vae-dir']),
      noHashing: values['no-hashing'],
      threads: positiveFlag('--threads', values.threads),
      quantize: values.int8 ? 'int8' : undefined,
      cacheMaxBytes: onnxCacheMaxBytes(values['onnx-cache-max-gb']),
      log,
    },
    controlnetDir: path(values['controlnet-dir']),
    stylesFiles: values['styles-file']?.map((p) => resolve(p)),
  };
}
