/**
 * The embedded job store: jobs and events in memory, made durable by an fsync'd append-only journal at
 * `<dir>/journal.jsonl`, image bytes under `<dir>/images/<seq>/<index>.png` and input images (img2img) under
 * `<dir>/images/<seq>/inputs/<key>.png`. Without a folder it keeps
 * everything in memory (tests, `buildApp` without a data dir). No server to install; one process owns the folder.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobEvent } from '@sdapi/protocol';
import { removeStaleTemporaries, writeFileAtomic } from '../atomic-file.ts';
import { Journal } from './journal.ts';
import { appendToEventLog, expiredJobs, listJobs } from './store-shared.ts';
import type { JobFilter, JobRecord, JobStore, RetentionPolicy } from './types.ts';

/**
 * One journal line: a whole job record, an event, the removal of a job, or (first line after a rewrite) the
 * counters, so that ids stay increasing even when the newest jobs were swept.
 */
type Entry = { job: JobRecord } | { event: JobEvent } | { remove: string } | { meta: { lastEventId: number; lastSeq: number } };

/** Rewrite the journal once it holds this many more lines than the live state needs. */
const COMPACT_SLACK = 5000;

export class EmbeddedJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly eventLog = new Map<string, JobEvent[]>();
  private readonly memoryImages = new Map<string, Uint8Array>();
  private journal: Journal | null = null;
  private lastEventId = 0;
  private lastSeq = 0;

  /** @param dir `<data-dir>/jobs`; undefined keeps everything in memory. */
  constructor(readonly dir?: string) {}

  get durable(): boolean {
    return this.dir !== undefined;
  }

  async open(): Promise<{ jobs: JobRecord[]; lastEventId: number; lastSeq: number }> {
    if (this.dir) {
      await this.removeCrashLeftovers(this.dir);
      const { journal, entries } = await Journal.open(join(this.dir, 'journal.jsonl'));
      this.journal = journal;
      for (const entry of entries as Entry[]) this.apply(entry);
      if (entries.length > 0) await journal.rewrite(() => this.snapshot()); // compact what the last run appended
    }
    const jobs = [...this.jobs.values()].sort((a, b) => a.seq - b.seq);
    return { jobs, lastEventId: this.lastEventId, lastSeq: this.lastSeq };
  }

  get(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  list(filter: JobFilter): JobRecord[] {
    return listJobs(this.jobs.values(), filter);
  }

  async put(record: JobRecord, durable: boolean): Promise<void> {
    this.lastSeq = Math.max(this.lastSeq, record.seq);
    this.jobs.set(record.id, record);
    if (!this.eventLog.has(record.id)) this.eventLog.set(record.id, []);
    await this.journal?.append({ job: record }, durable);
  }

  async appendEvent(event: JobEvent, durable: boolean): Promise<void> {
    this.lastEventId = Math.max(this.lastEventId, event.id);
    if (appendToEventLog(this.eventLog.get(event.job), event) === 'stale') return;
    // A replaced position update is still journalled (a line; the journal is compacted to the log in memory).
    await this.journal?.append({ event }, durable);
  }

  events(jobId: string, afterId = 0): JobEvent[] {
    return (this.eventLog.get(jobId) ?? []).filter((e) => e.id > afterId);
  }

  async writeImage(record: JobRecord, index: number, bytes: Uint8Array): Promise<void> {
    if (!this.dir) {
      this.memoryImages.set(`${record.seq}/${index}`, bytes);
      return;
    }
    await writeFileAtomic(join(this.dir, 'images', String(record.seq), `${index}.png`), bytes);
  }

  async writeInput(record: JobRecord, key: string, bytes: Uint8Array): Promise<void> {
    if (!this.dir) {
      this.memoryImages.set(`${record.seq}/inputs/${key}`, bytes);
      return;
    }
    await writeFileAtomic(join(this.dir, 'images', String(record.seq), 'inputs', `${key}.png`), bytes);
  }

  async readInput(record: JobRecord, key: string): Promise<Uint8Array | undefined> {
    if (!this.dir) return this.memoryImages.get(`${record.seq}/inputs/${key}`);
    return readFile(join(this.dir, 'images', String(record.seq), 'inputs', `${key}.png`)).catch(() => undefined);
  }

  /** Temporary files a kill -9 left mid-write (the journal's rewrite, images): whole files only from here on. */
  private async removeCrashLeftovers(dir: string): Promise<void> {
    await removeStaleTemporaries(dir, 'journal.jsonl');
    const images = join(dir, 'images');
    const folders = await readdir(images).catch(() => [] as string[]);
    for (const seq of folders) {
      await removeStaleTemporaries(join(images, seq));
      await removeStaleTemporaries(join(images, seq, 'inputs'));
    }
  }

  async readImage(record: JobRecord, index: number): Promise<Uint8Array | undefined> {
    if (!this.dir) return this.memoryImages.get(`${record.seq}/${index}`);
    return readFile(join(this.dir, 'images', String(record.seq), `${index}.png`)).catch(() => undefined);
  }

  async sweep(policy: RetentionPolicy, now: number): Promise<string[]> {
    const doomed = expiredJobs(this.jobs.values(), policy, now);
    for (const job of doomed) await this.remove(job);
    const live = this.jobs.size + [...this.eventLog.values()].reduce((n, list) => n + list.length, 0);
    if (this.journal && this.journal.linesSinceRewrite > 2 * live + COMPACT_SLACK) await this.journal.rewrite(() => this.snapshot());
    return doomed.map((j) => j.id);
  }

  async close(): Promise<void> {
    await this.journal?.close();
  }

  private async remove(job: JobRecord): Promise<void> {
    this.jobs.delete(job.id);
    this.eventLog.delete(job.id);
    for (const key of [...this.memoryImages.keys()]) if (key.startsWith(`${job.seq}/`)) this.memoryImages.delete(key);
    // Removal need not be durable: a lost `remove` line only means the next sweep removes the job again.
    await this.journal?.append({ remove: job.id }, false);
    if (this.dir) await rm(join(this.dir, 'images', String(job.seq)), { recursive: true, force: true });
  }

  /** Replays one journal entry. */
  private apply(entry: Entry): void {
    if ('job' in entry) {
      this.lastSeq = Math.max(this.lastSeq, entry.job.seq);
      this.jobs.set(entry.job.id, entry.job);
      if (!this.eventLog.has(entry.job.id)) this.eventLog.set(entry.job.id, []);
    } else if ('event' in entry) {
      this.lastEventId = Math.max(this.lastEventId, entry.event.id);
      appendToEventLog(this.eventLog.get(entry.event.job), entry.event);
    } else if ('remove' in entry) {
      this.jobs.delete(entry.remove);
      this.eventLog.delete(entry.remove);
    } else if ('meta' in entry) {
      this.lastEventId = Math.max(this.lastEventId, entry.meta.lastEventId);
      this.lastSeq = Math.max(this.lastSeq, entry.meta.lastSeq);
    }
  }

  private snapshot(): Entry[] {
    const jobs = [...this.jobs.values()].sort((a, b) => a.seq - b.seq);
    const meta = { meta: { lastEventId: this.lastEventId, lastSeq: this.lastSeq } };
    return [meta, ...jobs.map((job) => ({ job })), ...jobs.flatMap((job) => (this.eventLog.get(job.id) ?? []).map((event) => ({ event })))];
  }
}

/** A strong ETag for image bytes. */
export function etagOf(bytes: Uint8Array): string {
  return `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;
}
