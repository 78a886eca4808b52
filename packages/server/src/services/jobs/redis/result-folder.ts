/**
 * `--results-dir` (issue 15): a cluster's job images and kept inputs as files in a folder every node mounts (NFS,
 * a shared volume), instead of Redis keys. Redis then holds only records and events, so a large result does not
 * cost Redis memory; any node serves any job's images from the folder.
 *
 * Layout: `<dir>/<job id, escaped>/<index>.png` and `…/inputs/<key>.png`. Job ids as A1111 clients send them
 * (`force_task_id`) may hold any character, so everything but `A-Z a-z 0-9 _ ( ) ~ -` is percent-escaped: no `/`,
 * no `..`, and the name maps back to the id. Files are written atomically (temp file, fsync, rename), so a reader
 * on another node sees a whole PNG or none.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../atomic-file.ts';
import { ConfigError } from '../../errors.ts';

/** Longest escaped name used as it is (file systems allow 255 bytes; the escapes triple non-ASCII characters). */
const MAX_NAME = 200;

/**
 * The folder name of a job: its id percent-escaped (UTF-8). An id whose escaped form is too long, or with a lone
 * surrogate (which UTF-8 cannot hold), is named `%~<sha256>`, which no escaped id can be (`%` always starts an
 * escape there); such folders go with their job's record only, never as orphans (their id cannot be read back).
 */
function escapeId(id: string): string {
  const escaped = /[\uD800-\uDFFF]/u.test(id)
    ? null
    : id.replace(/[^A-Za-z0-9_()~-]/gu, (c) => [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return escaped !== null && escaped.length <= MAX_NAME ? escaped : `%~${createHash('sha256').update(id, 'utf16le').digest('hex')}`;
}

/** The job id a folder name stands for, or null for a name this class did not write. */
function unescapeId(name: string): string | null {
  try {
    const id = decodeURIComponent(name);
    return escapeId(id) === name ? id : null;
  } catch {
    return null;
  }
}

/** The Redis key holding the token the cluster's results folder carries in its `MARKER` file. */
export const RESULTS_TOKEN_KEY = 'sdapi:results-dir';
const MARKER = '.sdapi-results';

/** Just what `claim` needs of Redis (RedisLink.send). */
type Send = (command: string, args: (string | number)[]) => Promise<unknown>;

/** Deletes the token only if it is still the one this node set. */
const RELEASE_TOKEN = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class ResultFolder {
  /** When orphaned folders were last looked for (they are looked for at most once per `ORPHAN_SCAN_MS`). */
  private lastOrphanScan = 0;

  constructor(readonly dir: string) {}

  /**
   * Checks that this is the folder the cluster's other nodes use: the first node writes a random token to Redis
   * and to a marker file in the folder; a node whose folder lacks that token (a local folder of the same path, a
   * mount missing) is refused at start, before it writes images nobody else can read.
   */
  async claim(send: Send): Promise<void> {
    await this.probe();
    const readMarker = () =>
      readFile(join(this.dir, MARKER), 'utf8').then(
        (t) => t.trim(),
        () => null,
      );
    let mine = await readMarker();
    const offered = mine ?? randomUUID();
    await send('SET', [RESULTS_TOKEN_KEY, offered, 'NX']);
    const token = (await send('GET', [RESULTS_TOKEN_KEY])) as string | null;
    if (token === offered && mine === null) {
      try {
        return await writeFileAtomic(join(this.dir, MARKER), `${offered}\n`);
      } catch (error) {
        await send('EVAL', [RELEASE_TOKEN, 1, RESULTS_TOKEN_KEY, offered]); // so that the next node can claim it
        throw new ConfigError(`--results-dir ${this.dir}: cannot write its ${MARKER} file: ${(error as Error).message}`);
      }
    }
    // Nodes started together: the one that set the token writes the marker a moment after; give it 5 s.
    for (let i = 0; i < 50 && mine === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      mine = await readMarker();
    }
    if (token === mine) return;
    throw new ConfigError(
      `--results-dir ${this.dir} is not the folder the cluster's other nodes use: its ${MARKER} file ${mine ? `holds ${mine}` : 'is missing'}, Redis has ${token}. ` +
        `Give every node the same shared folder (or, if the folder was replaced on purpose, delete the Redis key ${RESULTS_TOKEN_KEY}).`,
    );
  }

  /** Writes and removes a file, so that a folder this node cannot write to stops it at start, not after a job ran. */
  private async probe(): Promise<void> {
    const path = join(this.dir, `.probe-${randomUUID()}`);
    try {
      await writeFileAtomic(path, 'probe');
      await rm(path, { force: true });
    } catch (error) {
      throw new ConfigError(`--results-dir ${this.dir} cannot be written here: ${(error as Error).message}`);
    }
  }

  write(jobId: string, name: string, bytes: Uint8Array): Promise<void> {
    return writeFileAtomic(this.path(jobId, name), bytes);
  }

  read(jobId: string, name: string): Promise<Uint8Array | undefined> {
    return readFile(this.path(jobId, name)).then(
      (b) => new Uint8Array(b),
      () => undefined,
    );
  }

  /** Removes a job's files (any node may: the sweep runs on each). */
  remove(jobId: string): Promise<void> {
    return rm(join(this.dir, escapeId(jobId)), { recursive: true, force: true });
  }

  /**
   * Removes the folders of jobs Redis no longer has (a record lost with Redis, or removed while this folder was
   * away) once they are older than `maxAgeMs` (Redis keys had that TTL). Temporary files a killed writer left in a
   * job's folder go with the folder: another node may be writing one right now, so none is removed alone. Runs at
   * most once per hour.
   */
  async sweepOrphans(hasJob: (id: string) => Promise<boolean>, maxAgeMs: number, now: number): Promise<number> {
    if (now - this.lastOrphanScan < ORPHAN_SCAN_MS) return 0;
    this.lastOrphanScan = now;
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const id = unescapeId(name);
      if (id === null) continue;
      const folder = join(this.dir, name);
      const age = now - (await stat(folder).catch(() => ({ mtimeMs: now }))).mtimeMs;
      if (age > maxAgeMs && !(await hasJob(id))) {
        await rm(folder, { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  private path(jobId: string, name: string): string {
    return join(this.dir, escapeId(jobId), name);
  }
}

const ORPHAN_SCAN_MS = 3600_000;
