/**
 * Separate VAE files (spec §3.14, option `sd_vae`): GET /sdapi/v1/sd-vae lists `models/VAE/**`, `--vae-dir/**` and
 * `*.vae.safetensors` beside the checkpoints (models/Stable-diffusion/** and `--ckpt-dir`), natural-sorted by file
 * name; `resolveVae` turns an `sd_vae` value into the file a job decodes with. Only `.safetensors` are listed:
 * A1111 also lists `.ckpt`/`.pt` pickles, which this server never loads (unpickling runs code).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { realFolder, realPathInside } from '@sdapi/engine';
import { ApiError } from './errors.ts';

export interface VaeFile {
  /** File name with its extension (the `sd_vae` value). */
  model_name: string;
  /** Full path. */
  filename: string;
}

export interface VaeDirs {
  dataDir: string;
  ckptDir?: string | null;
  vaeDir?: string | null;
}

const VAE_EXT = /\.safetensors$/i;
const VAE_SUFFIX = /\.vae\.safetensors$/i;

/** The folders from the reported flags (`data_dir`, `ckpt_dir`, `vae_dir`, as GET /cmd-flags has them). */
export function vaeDirsFromFlags(flags: Record<string, unknown>): VaeDirs {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  return { dataDir: str(flags.data_dir) ?? '.', ckptDir: str(flags.ckpt_dir), vaeDir: str(flags.vae_dir) };
}

export function listVaeFiles(dirs: VaeDirs): VaeFile[] {
  const found = new Map<string, string>();
  const add = (dir: string | null | undefined, pattern: RegExp) => {
    if (!dir) return;
    for (const path of walk(dir)) if (pattern.test(path)) found.set(path, basename(path));
  };
  add(join(dirs.dataDir, 'models', 'Stable-diffusion'), VAE_SUFFIX);
  add(dirs.ckptDir, VAE_SUFFIX);
  add(join(dirs.dataDir, 'models', 'VAE'), VAE_EXT);
  add(dirs.vaeDir, VAE_EXT);
  return [...found].map(([filename, model_name]) => ({ model_name, filename })).sort((a, b) => naturalCompare(a.model_name, b.model_name));
}

/**
 * Every file under `dir` (recursively); a missing folder is empty. Symlinks are followed only while they stay
 * inside the folder (engine folder.ts), each real folder once, so a link cannot lead the listing elsewhere or loop.
 */
function walk(dir: string, realRoot = realFolder(dir), seen = new Set<string>()): string[] {
  const real = realRoot && realPathInside(realRoot, dir);
  if (!realRoot || !real || seen.has(real)) return [];
  seen.add(real);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    const target = realPathInside(realRoot, path);
    if (!target) return [];
    try {
      const stat = statSync(target);
      return stat.isDirectory() ? walk(path, realRoot, seen) : stat.isFile() ? [path] : [];
    } catch {
      return [];
    }
  });
}

/** A1111's `natural_sort_key`: case-insensitive, runs of digits compared as numbers. */
export function naturalCompare(a: string, b: string): number {
  const parts = (s: string) => s.toLowerCase().split(/(\d+)/);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const numeric = i % 2 === 1;
    return numeric ? Number(x[i]) - Number(y[i]) : x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** The `sd_vae` values that name no file. */
export const VAE_SPECIAL = ['Automatic', 'None'] as const;

/** The VAE file a job uses, or null for the checkpoint's own. */
export type VaeChoice = VaeFile | null;

/**
 * A1111's VAE resolution for a checkpoint (sd_vae.resolve_vae, without per-model user metadata):
 * - a listed VAE whose file name starts with the checkpoint's base name ("found near the checkpoint") is used
 *   when `sd_vae` is Automatic, or always when `sd_vae_overrides_per_model_preferences` is off;
 * - `None` → the checkpoint's own VAE; a listed file name → that file; Automatic with none near → its own.
 * An unknown name throws (A1111 prints a warning and decodes with the checkpoint's VAE; we refuse it, listing the
 * valid values, so a typo never silently changes the output).
 */
export function resolveVae(value: unknown, files: readonly VaeFile[], checkpoint: string | null, overridesPerModel = true): VaeChoice {
  const name = value ?? 'Automatic';
  if (typeof name !== 'string') throw unknownVae(name, files);
  const automatic = name === 'Automatic' || name === 'auto'; // 'auto': A1111's value from old configs
  const near = checkpoint ? nearCheckpoint(files, checkpoint) : null;
  if (near && (automatic || !overridesPerModel)) return near;
  if (automatic || name === 'None') return null;
  const file = files.find((f) => f.model_name === name);
  if (!file) throw unknownVae(name, files);
  return file;
}

/** Throws unless `value` is a valid `sd_vae` for these files (POST /options, override_settings). */
export function checkVaeName(value: unknown, files: readonly VaeFile[]): void {
  resolveVae(value, files, null);
}

function nearCheckpoint(files: readonly VaeFile[], checkpoint: string): VaeFile | null {
  const stem = basename(checkpoint, extname(checkpoint));
  return files.find((f) => basename(f.filename).startsWith(stem)) ?? null;
}

/** An `sd_vae` naming no listed file: 422 with the valid values. */
function unknownVae(value: unknown, files: readonly VaeFile[]): ApiError {
  const choices = [...VAE_SPECIAL, ...files.map((f) => f.model_name)].map((c) => JSON.stringify(c)).join(', ');
  return new ApiError(
    'INVALID_PARAMS',
    `sd_vae ${JSON.stringify(value)} is not a VAE file of this server; valid choices: ${choices} (only .safetensors files in models/VAE, --vae-dir or named <checkpoint>.vae.safetensors are listed)`,
  );
}
