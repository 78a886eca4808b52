/** Which checkpoint a command runs: --ckpt, else the first .safetensors found, else the embedded placeholder. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CheckpointCatalog, DEFAULT_MODEL_NOTICE, ensureDefaultModel } from '@sdapi/engine';

export interface CheckpointChoice {
  ckpt?: string;
  ckptDir?: string;
  dataDir: string;
}

export async function resolveCheckpoint({ ckpt, ckptDir, dataDir }: CheckpointChoice): Promise<string> {
  if (ckpt) {
    if (!existsSync(ckpt)) throw new Error(`--ckpt ${ckpt}: no such file`);
    return resolve(ckpt);
  }
  const modelsDir = join(resolve(dataDir), 'models');
  const catalog = CheckpointCatalog.scan({ modelsDir, ckptDir: ckptDir ? resolve(ckptDir) : null });
  const found = catalog.list().find((e) => e.format === 'safetensors');
  if (found) return found.filename;
  const { path } = ensureDefaultModel(join(modelsDir, 'Stable-diffusion'));
  console.error(DEFAULT_MODEL_NOTICE);
  return path;
}
