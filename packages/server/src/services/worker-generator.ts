/**
 * The engine off the event loop (issue 13 §8). onnxruntime-node runs a session synchronously on the calling
 * thread (its `run` is a native call inside `setImmediate`), so with the engine in the server's thread every UNet
 * step stalls `/progress`, interrupt and health for its whole duration (measured: 0.6 s on the *tiny* model at
 * 512², seconds per step on a full SD1.5). WorkerGenerator keeps the same Generator interface and runs an
 * EngineGenerator in a child process (default) or a worker thread (engine-host.ts, generator-worker.ts): calls and
 * results cross as structured clones, progress comes back per step, interrupt and skip are forwarded at once (the
 * engine sees them at its next step check, as before). The LoRA list is read on this side (a folder scan, needed
 * synchronously by capabilities).
 *
 * If the engine dies (an exception outside a call, out of memory, a native crash in its process), every call in
 * flight fails with a 500 naming the cause, and the next call starts a fresh engine with no model loaded.
 */

import { join } from 'node:path';
import {
  type GenerationHooks,
  type GenerationProgress,
  type Img2ImgParams,
  type Img2ImgResult,
  LoraCatalog,
  type Pixels,
  type TileOptions,
  type Txt2ImgParams,
  type Txt2ImgResult,
  UpscalerCatalog,
  type UpscalerEntry,
  upscalerDirs,
} from '@sdapi/engine';
import type { LoraList } from '@sdapi/protocol';
import type { EngineGeneratorOptions } from './engine-generator.ts';
import { type EngineHost, type EngineIsolation, startEngineHost } from './engine-host.ts';
import { resultFromWire } from './engine-wire.ts';
import { ApiError, type ApiErrorCode } from './errors.ts';
import type { CheckpointFile, EmbeddingList, Generator } from './generator.ts';

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  hooks?: GenerationHooks;
  /** Skip signals already wired to the worker (the queue hands out a fresh one per batch). */
  skipSeen?: WeakSet<AbortSignal>;
  /** The batch the last progress was for: the queue's skip signal is asked for again when it changes. */
  jobNo?: number;
}

type SerialisedError = { name: string; message: string; code?: unknown; stack?: string; headers?: Record<string, string> };

export interface WorkerGeneratorOptions extends EngineGeneratorOptions {
  /** Where the engine runs (engine-host.ts): its own process (default: memory back on unload, crashes contained) or a worker thread. */
  isolation?: EngineIsolation;
}

export class WorkerGenerator implements Generator {
  private worker: EngineHost | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private current: CheckpointFile | null = null;
  private readonly loras: LoraCatalog;
  private readonly upscalers: UpscalerCatalog;
  private closed = false;

  constructor(private readonly options: WorkerGeneratorOptions) {
    const dirs = [options.loraDir, join(options.dataDir, 'models', 'Lora'), join(options.dataDir, 'models', 'LyCORIS')];
    // Listing only (names, metadata, errors); the worker's own catalog applies the networks and hashes them.
    this.loras = new LoraCatalog({ dirs: dirs.filter((d): d is string => Boolean(d)), cache: null, noHashing: true });
    this.upscalers = new UpscalerCatalog(upscalerDirs(options.dataDir));
  }

  listCheckpoints(): Promise<CheckpointFile[]> {
    return this.call('listCheckpoints', []) as Promise<CheckpointFile[]>;
  }

  currentCheckpoint(): CheckpointFile | null {
    return this.current;
  }

  async loadCheckpoint(checkpoint: CheckpointFile): Promise<CheckpointFile> {
    const loaded = (await this.call('loadCheckpoint', [checkpoint])) as CheckpointFile;
    this.current = loaded;
    return loaded;
  }

  hashCheckpoint(checkpoint: CheckpointFile): Promise<CheckpointFile> {
    return this.call('hashCheckpoint', [checkpoint]) as Promise<CheckpointFile>;
  }

  txt2img(params: Txt2ImgParams, hooks: GenerationHooks): Promise<Txt2ImgResult> {
    return this.call('txt2img', [params, null], hooks) as Promise<Txt2ImgResult>;
  }

  img2img(params: Img2ImgParams, hooks: GenerationHooks): Promise<Img2ImgResult> {
    return this.call('img2img', [params, null], hooks) as Promise<Img2ImgResult>;
  }

  listEmbeddings(): Promise<EmbeddingList> {
    return this.call('listEmbeddings', []) as Promise<EmbeddingList>;
  }

  async refreshEmbeddings(): Promise<void> {
    await this.call('refreshEmbeddings', []);
  }

  /** POST /unload-checkpoint: the worker releases the model's sessions and file (EngineGenerator.unloadCheckpoint). */
  async unloadCheckpoint(): Promise<void> {
    if (!this.worker) return; // no worker, no model
    await this.call('unloadCheckpoint', []);
    this.current = null;
    // The engine's native memory (ORT arenas, malloc's per-thread pools) goes back only when its process or thread
    // ends: measured on the tiny model with a thread, RSS cold 219 MiB, loaded 338, unloaded 329 with the thread kept,
    // 264 with it ended (a process gives all of it back). So end it when nothing else is waiting on it; the next call
    // starts a fresh one.
    const worker = this.worker;
    if (worker && this.pending.size === 0) {
      this.worker = null;
      await worker.terminate();
    }
  }

  listLoras(): LoraList {
    return this.loras.list().map((e) => ({ name: e.name, alias: e.alias, path: e.path, metadata: e.metadata, ...(e.error ? { error: e.error } : {}) }));
  }

  refreshLoras(): void {
    this.loras.refresh();
    this.call('refreshLoras', []).catch(() => undefined);
  }

  /** Listed in this process (file headers only); the engine process opens and runs the model. */
  listUpscalers(): UpscalerEntry[] {
    return this.upscalers.list();
  }

  refreshUpscalers(): void {
    this.upscalers.refresh();
  }

  upscaleImage(name: string, img: Pixels, scale: number, tiles: TileOptions, hooks?: GenerationHooks): Promise<Pixels> {
    return this.call('upscaleImage', [name, img, scale, tiles, null], hooks ? { signal: hooks.signal } : undefined) as Promise<Pixels>;
  }

  /** A full GC in the engine's heap when it exposes one (memory measurements); false otherwise. */
  async collectGarbage(): Promise<boolean> {
    return (await this.call('collectGarbage', [])) as boolean;
  }

  /**
   * The resident memory of the engine's own process in bytes (it starts one if none runs), or 0 when the engine is a
   * thread of this process (its memory is in this process's RSS). Memory measurements add it to the server's.
   */
  async engineRss(): Promise<number> {
    const rss = (await this.call('rss', [])) as number;
    return this.worker?.pid === null ? 0 : rss;
  }

  /** The running engine's process id; null when none runs or it is a thread. */
  get enginePid(): number | null {
    return this.worker?.pid ?? null;
  }

  /** Releases the model in the engine and ends its process or thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.worker) return;
    await this.call('close', [], undefined, true).catch(() => undefined);
    await this.worker?.terminate();
    this.worker = null;
  }

  private start(): EngineHost {
    const host = startEngineHost(
      this.options.isolation ?? 'process',
      { ...this.options, log: undefined, isolation: undefined },
      {
        message: (message: { id?: number; result?: unknown; error?: SerialisedError; progress?: GenerationProgress; log?: string }) => {
          if (message.log !== undefined) return this.options.log?.(message.log);
          const pending = this.pending.get(message.id ?? -1);
          if (!pending) return;
          if (message.progress) return this.progress(message.id as number, pending, message.progress);
          this.pending.delete(message.id as number);
          if (message.error) pending.reject(revive(message.error));
          else pending.resolve(resultFromWire(message.result));
        },
        lost: (cause) => this.lost(host, cause),
      },
    );
    host.unref(); // an idle engine does not keep the process alive; calls in flight hold it via their promises
    return host;
  }

  private lost(worker: EngineHost, cause: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.current = null; // a fresh worker starts without a model
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(
        this.closed
          ? new ApiError('SHUTTING_DOWN', 'the server is shutting down')
          : new ApiError('INTERNAL', `the generator stopped: ${cause.message}`, { cause }),
      );
    }
  }

  private call(method: string, args: unknown[], hooks?: GenerationHooks, evenIfClosed = false): Promise<unknown> {
    if (this.closed && !evenIfClosed) return Promise.reject(new ApiError('SHUTTING_DOWN', 'the server is shutting down'));
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { resolve, reject, hooks, skipSeen: new WeakSet(), jobNo: 0 };
      this.pending.set(id, pending);
      worker.ref();
      const settle = () => {
        if (this.pending.size === 0) worker.unref();
      };
      pending.resolve = (v) => {
        settle();
        resolve(v);
      };
      pending.reject = (e) => {
        settle();
        reject(e);
      };
      worker.post({ id, method, args });
      if (hooks?.signal) {
        const interrupt = () => worker.post({ id, control: 'interrupt' });
        if (hooks.signal.aborted) interrupt();
        else hooks.signal.addEventListener('abort', interrupt, { once: true });
      }
      this.watchSkip(id, pending);
    });
  }

  /** Wires the queue's current skip signal (a fresh one per batch) to the worker's job. */
  private watchSkip(id: number, pending: Pending): void {
    const signal = pending.hooks?.skipSignal?.();
    if (!signal || pending.skipSeen?.has(signal)) return;
    pending.skipSeen?.add(signal);
    const skip = () => this.worker?.post({ id, control: 'skip' });
    if (signal.aborted) skip();
    else signal.addEventListener('abort', skip, { once: true });
  }

  private progress(id: number, pending: Pending, progress: GenerationProgress): void {
    // Like the engine, ask for the skip signal once per batch (asking resets a skip that was already taken).
    if (progress.jobNo !== pending.jobNo) {
      pending.jobNo = progress.jobNo;
      this.watchSkip(id, pending);
    }
    pending.hooks?.onProgress?.(progress);
  }
}

/** An error from the worker with its code (the server's error table maps it) and message. */
function revive(e: SerialisedError): Error {
  if (typeof e.code === 'string' && e.name === 'ApiError') {
    const error = new ApiError(e.code as ApiErrorCode, e.message, { headers: e.headers });
    error.stack = e.stack;
    return error;
  }
  const error = Object.assign(new Error(e.message), { name: e.name, code: e.code });
  error.stack = e.stack;
  return error;
}
