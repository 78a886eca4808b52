/**
 * GET /sdapi/v1/sd-vae (spec §3.14): VAE files A1111 would offer for option `sd_vae`: `models/VAE/**` with
 * .ckpt/.pt/.safetensors, `*.vae.{ckpt,pt,safetensors}` beside the checkpoints (models/Stable-diffusion/** and
 * `--ckpt-dir`), and `--vae-dir/**`; natural-sorted by file name. Listing only: the engine does not load separate
 * VAE files yet (the checkpoint's own VAE is always used).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { realFolder, realPathInside } from '@sdapi/engine';

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

const VAE_EXT = /\.(ckpt|pt|safetensors)$/i;
const VAE_SUFFIX = /\.vae\.(ckpt|pt|safetensors)$/i;

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
