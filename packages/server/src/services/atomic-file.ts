/**
 * Crash-safe file replacement (issue 13 §8): write a temporary file beside the target, fsync it, rename it over
 * the target, fsync the folder. After kill -9 or a power cut at any moment the target holds either the old or the
 * new content, never a mix. Temporary names carry the `.tmp-` marker so that `removeStaleTemporaries` can delete
 * what a crash left behind on the next start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TMP_MARKER = '.tmp-';
let counter = 0;

/** Replaces `path` with `data` atomically and durably. Concurrent calls each use their own temporary file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  // pid + counter, and a random part: processes in different containers (a shared --results-dir) may share a pid.
  const tmp = `${path}${TMP_MARKER}${process.pid}-${++counter}-${randomBytes(4).toString('hex')}`;
  try {
    const out = await open(tmp, 'wx');
    try {
      await out.writeFile(data);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await syncFolder(folder);
}

/** fsync of a folder, so that a rename or a new file in it survives a power cut. */
export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Deletes the temporary files of `writeFileAtomic` (and the older `<name>.tmp` spelling) that a crash left in
 * `folder`, optionally only those of `name`. Returns how many were removed. Call before the folder is used.
 */
export async function removeStaleTemporaries(folder: string, name?: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    const stale = entry.includes(TMP_MARKER) || entry.endsWith('.tmp');
    if (!stale || (name !== undefined && !entry.startsWith(basename(name)))) continue;
    await rm(join(folder, entry), { force: true, recursive: true });
    removed++;
  }
  return removed;
}
