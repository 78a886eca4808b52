/**
 * An append-only JSON-lines journal with group commit: appends are written in order, and a batch that holds a
 * durable entry is `fdatasync`ed before any of its promises resolve. `rewrite` replaces the file atomically
 * (temp file, fsync, rename, fsync of the folder) to compact it. A torn last line (a crash mid-write) is skipped
 * on open.
 */

import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncFolder, writeFileAtomic } from '../atomic-file.ts';
import { ApiError } from '../errors.ts';

interface Pending {
  line: string;
  durable: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Journal {
  private buffer: Pending[] = [];
  private chain: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private closed = false;
  /** Lines appended since the file was last (re)written: the compaction trigger. */
  linesSinceRewrite = 0;

  /** Opened on the first write, so that a server that never queues a job leaves no files behind. */
  private handle: FileHandle | null = null;

  private constructor(private readonly path: string) {}

  /** Opens (creating) the journal and returns the entries it holds; `skipped` counts unreadable lines. */
  static async open(path: string): Promise<{ journal: Journal; entries: unknown[]; skipped: number }> {
    const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)));
    const entries: unknown[] = [];
    let skipped = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line));
      } catch {
        skipped++; // a torn write from a crash: the entries before it are whole
      }
    }
    const journal = new Journal(path);
    journal.linesSinceRewrite = entries.length;
    return { journal, entries, skipped };
  }

  /** Appends one entry; with `durable` the promise resolves once it is on disk. */
  append(entry: unknown, durable: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new ApiError('SHUTTING_DOWN', 'the job journal is closed (the server is shutting down)'));
    return new Promise((resolve, reject) => {
      this.buffer.push({ line: `${JSON.stringify(entry)}\n`, durable, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.serial(() => this.flush());
      }
    });
  }

  /** Replaces the whole file with `snapshot()` (taken when the rewrite runs, after every earlier append). */
  rewrite(snapshot: () => unknown[]): Promise<void> {
    return this.serial(async () => {
      const entries = snapshot();
      await writeFileAtomic(this.path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      await this.handle?.close();
      this.handle = await open(this.path, 'a');
      this.linesSinceRewrite = entries.length;
    });
  }

  /** Flushes what is buffered and closes; later appends are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(async () => {
      await this.handle?.sync();
      await this.handle?.close();
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return;
    try {
      const handle = await this.openHandle();
      await handle.write(batch.map((p) => p.line).join(''));
      if (batch.some((p) => p.durable)) await handle.datasync();
      this.linesSinceRewrite += batch.length;
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  private async openHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.path), { recursive: true });
    this.handle = await open(this.path, 'a');
    // A new file's directory entry must reach the disk too.
    await syncFolder(dirname(this.path));
    return this.handle;
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
