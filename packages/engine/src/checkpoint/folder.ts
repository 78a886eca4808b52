/**
 * Model folders hold only what is inside them (issue 13 §6): a symlink whose target lies outside the folder (a
 * file, or a folder that would be walked) is not followed, so nothing outside the data and model folders is read.
 * A shared model store elsewhere is named with its own flag (`--ckpt-dir`, `--lora-dir`, `--vae-dir`, …) instead.
 * Links that stay inside (aliases, a `loop` back to the folder) are fine; the walkers visit each real folder once.
 */
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';

/** The real path of `root` (symlinks resolved), or null when it does not exist. */
export function realFolder(root: string): string | null {
  try {
    return realpathSync(root);
  } catch {
    return null;
  }
}

/** The real path of `path` when it lies inside the real folder `realRoot` (or is it), else null (outside, broken). */
export function realPathInside(realRoot: string, path: string): string | null {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null;
  }
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep) ? real : null;
}
