/**
 * A1111's model hashes (spec §9.2, vector model_hashes.json): the full-file SHA-256 (short form: 10 hex for
 * checkpoints, 12 for LoRA/TI), the legacy 8-hex "model hash" (SHA-256 of 64 KiB at offset 1 MiB), the LoRA
 * "addnet" hash (SHA-256 of a safetensors file after its header), and the `cache.json` that keeps SHA-256s by
 * `<kind>/<name>` with the file's mtime so multi-GB files are hashed once.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from '../errors.ts';

/** Read size for streamed hashing (A1111 reads 1 MiB blocks; the digest does not depend on it). */
export const HASH_BLOCK_BYTES = 1024 * 1024;
const LEGACY_OFFSET = 0x100000;
const LEGACY_LENGTH = 0x10000;

/** SHA-256 (hex) of the file from byte `start` to the end, read in 1 MiB blocks without blocking the event loop. */
export async function sha256File(path: string, start = 0): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new CheckpointError(path, `cannot hash: ${(error as Error).message}`, { cause: error });
  }
  try {
    const hash = createHash('sha256');
    const block = Buffer.alloc(HASH_BLOCK_BYTES);
    for (let position = start; ; ) {
      const { bytesRead } = await handle.read(block, 0, block.length, position);
      if (bytesRead === 0) break;
      hash.update(block.subarray(0, bytesRead));
      position += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/**
 * Legacy 8-hex model hash: SHA-256 of the 65 536 bytes at offset 1 MiB (fewer near the end of the file; a file
 * under 1 MiB hashes the empty string, e3b0c442), or 'NOFILE' when the file does not exist.
 */
export function legacyModelHash(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'NOFILE';
  }
  try {
    const bytes = Buffer.alloc(LEGACY_LENGTH);
    let n = 0;
    while (n < LEGACY_LENGTH) {
      const got = readSync(fd, bytes, n, LEGACY_LENGTH - n, LEGACY_OFFSET + n);
      if (got === 0) break;
      n += got;
    }
    return createHash('sha256').update(bytes.subarray(0, n)).digest('hex').slice(0, 8);
  } finally {
    closeSync(fd);
  }
}

/** Addnet hash of a .safetensors network: SHA-256 of everything after the 8-byte length and the JSON header. */
export async function addnetHash(path: string): Promise<string> {
  const length = Buffer.alloc(8);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new CheckpointError(path, `cannot hash: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (readSync(fd, length, 0, 8, 0) < 8) throw new CheckpointError(path, 'is shorter than a safetensors header (8 bytes)');
  } finally {
    closeSync(fd);
  }
  return sha256File(path, 8 + Number(length.readBigUInt64LE(0)));
}

/** Checkpoint short hash (infotext "Model hash", `/sd-models` "hash"). */
export const checkpointShortHash = (sha256: string): string => sha256.slice(0, 10);
/** LoRA / textual-inversion short hash ("Lora hashes", "TI hashes"). */
export const networkShortHash = (sha256: string): string => sha256.slice(0, 12);

/** The file's mtime in seconds as Python's os.path.getmtime computes it (sec + nsec·1e-9 in double). */
export function fileMtime(path: string): number {
  const ns = statSync(path, { bigint: true }).mtimeNs;
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) * 1e-9;
}

/** Cache sections: checkpoints/TI use "hashes", LoRA addnet hashes "hashes-addnet". */
export type HashSection = 'hashes' | 'hashes-addnet';

interface CacheEntry {
  mtime: number;
  sha256: string;
}

/**
 * A1111-compatible `cache.json`: `{"hashes": {"checkpoint/<name>": {"mtime": <seconds>, "sha256": "<hex>"}}, …}`.
 * An entry is trusted while the file's mtime is not newer than the stored one. Other sections of the file
 * (A1111 keeps safetensors metadata there too) are preserved on write.
 */
export class HashCache {
  private data: Record<string, Record<string, CacheEntry>> | null = null;

  constructor(readonly path: string) {}

  /** The cached SHA-256 for `title`, or null when absent, stale, or the file is gone. */
  lookup(title: string, filename: string, section: HashSection = 'hashes'): string | null {
    const entry = this.load()[section]?.[title];
    if (!entry || typeof entry.sha256 !== 'string' || !existsSync(filename)) return null;
    return fileMtime(filename) > (entry.mtime ?? 0) ? null : entry.sha256;
  }

  store(title: string, filename: string, sha256: string, section: HashSection = 'hashes'): void {
    const data = this.load();
    data[section] ??= {};
    data[section][title] = { mtime: fileMtime(filename), sha256 };
    // Atomic and durable (temp, fsync, rename): a crash leaves the old cache or the new one, never half of it.
    const partial = `${this.path}.partial-${process.pid}`;
    const fd = openSync(partial, 'w');
    try {
      writeFileSync(fd, `${JSON.stringify(data, null, 4)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, this.path);
  }

  private load(): Record<string, Record<string, CacheEntry>> {
    if (this.data) return this.data;
    removeStalePartials(this.path);
    if (!existsSync(this.path)) return (this.data = {});
    try {
      this.data = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (error) {
      // A1111 also starts over on an unreadable cache; the hashes are recomputed, nothing is lost.
      process.emitWarning(`hash cache ${this.path} is unreadable (${(error as Error).message}); starting a new one`);
      this.data = {};
    }
    return this.data as Record<string, Record<string, CacheEntry>>;
  }
}

export interface HashOptions {
  cache?: HashCache | null;
  /** `--no-hashing`: never compute; only the cache can answer. */
  noHashing?: boolean;
  /** Use the addnet hash (LoRA .safetensors) and the "hashes-addnet" section. */
  addnet?: boolean;
}

/**
 * SHA-256 of `filename` through the cache under `title` (A1111: `checkpoint/<name>`, `lora/<name>`,
 * `textual_inversion/<name>`); null only when `noHashing` and nothing is cached.
 */
export async function cachedSha256(filename: string, title: string, opts: HashOptions = {}): Promise<string | null> {
  const section: HashSection = opts.addnet ? 'hashes-addnet' : 'hashes';
  const cached = opts.cache?.lookup(title, filename, section) ?? null;
  if (cached !== null || opts.noHashing) return cached;
  const sha256 = opts.addnet ? await addnetHash(filename) : await sha256File(filename);
  opts.cache?.store(title, filename, sha256, section);
  return sha256;
}

/** Deletes `<cache>.partial-<pid>` files a crashed process left (not this process's own, which may be in use). */
function removeStalePartials(path: string): void {
  const prefix = `${basename(path)}.partial-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name !== `${prefix}${process.pid}`) rmSync(join(dirname(path), name), { force: true });
  }
}
