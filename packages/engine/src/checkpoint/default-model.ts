/**
 * The embedded default: when no checkpoint is configured and none is found, a small SD1.5-architecture
 * checkpoint with seeded random weights is written into the models folder and served. It draws noise, not
 * pictures, and its file name and metadata say so; it exists so that `npm start` works with nothing downloaded.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_SD15_CONFIG, writeRandomCheckpoint } from './random.ts';

export const DEFAULT_MODEL_FILE = 'sdapi-placeholder-random-weights-draws-noise.safetensors';
export const DEFAULT_MODEL_SEED = 20241125;

/** Path of the placeholder in `modelsDir`, writing it first if it is not there (deterministic: same seed, same bytes). */
export function ensureDefaultModel(modelsDir: string): { path: string; created: boolean } {
  const path = join(modelsDir, DEFAULT_MODEL_FILE);
  if (existsSync(path)) return { path, created: false };
  mkdirSync(modelsDir, { recursive: true });
  writeRandomCheckpoint(path, TINY_SD15_CONFIG, DEFAULT_MODEL_SEED);
  return { path, created: true };
}

export const DEFAULT_MODEL_NOTICE = [
  'No checkpoint found: serving a placeholder SD1.5-architecture model with RANDOM weights (it draws noise, not pictures).',
  'To generate real images, put a .safetensors checkpoint (SD1.x) into <data-dir>/models/Stable-diffusion/ or pass --ckpt FILE.',
].join('\n');
