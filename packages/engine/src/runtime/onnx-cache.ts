/**
 * Upkeep of the ONNX cache (`<data-dir>/cache/onnx`, written by compile.ts): without it the folder only grows. An
 * SD1.5 UNet entry is 3.4 GB and SDXL's 10 GB, and every checkpoint, weight mode (fed, spatial, int8) and engine
 * upgrade that changes a graph adds entries that nothing will read again.
 *
 * Each entry holds `entry.json` naming the checkpoint it was compiled from (absolute path, size, mtime); its mtime
 * is the entry's last use (`touchEntry` on every load). `sweepOnnxCache` removes, in this order:
 *   1. entries whose checkpoint is gone or has changed (their key can never match again);
 *   2. temporary folders of a compile whose process is no longer alive (a crash mid-compile);
 *   3. the least recently used entries while the folder is over `maxBytes`, never the ones in `keep` (an entry
 *      in use may go: see below).
 * Removing an entry a running session was built from is safe: ORT read its files when the session was created (on
 * POSIX an unlinked file stays readable to whoever has it open or mapped).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The cap when the caller gives none (`--onnx-cache-max-gb`): room for a few SD1.5 and SDXL models with variants. */
export const DEFAULT_CACHE_MAX_BYTES = 32 * 1024 ** 3;

/** What an entry was compiled from, as `entry.json` records it. */
interface EntryMeta {
  graph: string;
  checkpoint: { path: string; size: number; mtimeMs: number };
}

const META_FILE = 'entry.json';
/** compile.ts names a compile's temporary folder `<entry>.tmp-<pid>-<time>`. */
const TMP_PATTERN = /\.tmp-(\d+)-\d+$/;

export function tmpEntryDir(dir: string): string {
  return `${dir}.tmp-${process.pid}-${Date.now()}`;
}

/** Writes `entry.json` for the entry being built in `dir` (before it is renamed into place). */
export function writeEntryMeta(dir: string, graph: string, checkpointPath: string): void {
  const stat = statSync(checkpointPath);
  const meta: EntryMeta = { graph, checkpoint: { path: resolve(checkpointPath), size: stat.size, mtimeMs: stat.mtimeMs } };
  writeFileSync(join(dir, META_FILE), `${JSON.stringify(meta)}\n`);
}

/** Marks the entry in `dir` as used now (the sweep removes the least recently used first). */
export function touchEntry(dir: string): void {
  const now = new Date();
  // An entry from before entry.json existed: its folder's mtime stands in for the last use. A read-only cache
  // folder is no error: it is simply never swept.
  for (const path of [join(dir, META_FILE), dir]) {
    try {
      utimesSync(path, now, now);
      return;
    } catch {}
  }
}

export interface SweepOptions {
  /** Default DEFAULT_CACHE_MAX_BYTES. */
  maxBytes?: number;
  /** Entry folder names never removed for size (compile.ts: the one just written). */
  keep?: ReadonlySet<string>;
}

export interface SweepResult {
  removed: { name: string; bytes: number; reason: 'checkpoint changed' | 'checkpoint gone' | 'crashed compile' | 'over the cap' }[];
  /** Bytes left in the folder. */
  bytes: number;
}

interface Entry {
  name: string;
  bytes: number;
  lastUse: number;
  meta: EntryMeta | null;
}

export function sweepOnnxCache(cacheDir: string, options: SweepOptions = {}): SweepResult {
  const maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
  const result: SweepResult = { removed: [], bytes: 0 };
  if (!existsSync(cacheDir)) return result;
  const remove = (entry: Entry, reason: SweepResult['removed'][number]['reason']) => {
    rmSync(join(cacheDir, entry.name), { recursive: true, force: true });
    result.removed.push({ name: entry.name, bytes: entry.bytes, reason });
  };
  const kept: Entry[] = [];
  for (const entry of listEntries(cacheDir)) {
    const tmp = TMP_PATTERN.exec(entry.name);
    if (tmp) {
      if (!processAlive(Number(tmp[1]))) remove(entry, 'crashed compile');
      continue; // a compile in progress: neither counted nor removed
    }
    const stale = entry.meta && checkpointState(entry.meta);
    if (stale) remove(entry, stale);
    else kept.push(entry);
  }
  let bytes = kept.reduce((sum, e) => sum + e.bytes, 0);
  for (const entry of kept.sort((a, b) => a.lastUse - b.lastUse)) {
    if (bytes <= maxBytes) break;
    if (options.keep?.has(entry.name)) continue;
    remove(entry, 'over the cap');
    bytes -= entry.bytes;
  }
  result.bytes = bytes;
  return result;
}

function listEntries(cacheDir: string): Entry[] {
  const entries: Entry[] = [];
  for (const dirent of readdirSync(cacheDir, { withFileTypes: true })) {
    if (!dirent.isDirectory()) continue;
    const dir = join(cacheDir, dirent.name);
    const entry: Entry = { name: dirent.name, bytes: 0, lastUse: statSync(dir).mtimeMs, meta: null };
    // An entry is flat (model.onnx, weights.bin, entry.json); only a compile's temporary folder has a subfolder,
    // and temporary folders are not counted.
    for (const file of readdirSync(dir)) {
      const stat = statSync(join(dir, file), { throwIfNoEntry: false });
      if (!stat?.isFile()) continue;
      entry.bytes += stat.size;
      if (file === META_FILE) {
        entry.lastUse = stat.mtimeMs;
        entry.meta = readMeta(join(dir, file));
      }
    }
    entries.push(entry);
  }
  return entries;
}

function readMeta(path: string): EntryMeta | null {
  try {
    const meta = JSON.parse(readFileSync(path, 'utf8')) as EntryMeta;
    return typeof meta?.checkpoint?.path === 'string' ? meta : null;
  } catch {
    return null; // unreadable metadata: the entry is judged by its age and size only
  }
}

/** Why the entry's checkpoint no longer matches it, or null while it does. */
function checkpointState(meta: EntryMeta): 'checkpoint changed' | 'checkpoint gone' | null {
  const stat = statSync(meta.checkpoint.path, { throwIfNoEntry: false });
  if (!stat) return 'checkpoint gone';
  return stat.size === meta.checkpoint.size && stat.mtimeMs === meta.checkpoint.mtimeMs ? null : 'checkpoint changed';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}
