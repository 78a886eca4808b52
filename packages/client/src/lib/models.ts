/**
 * Checkpoint and readiness helpers (webuiapi's `util_set_model`, `util_get_current_model`,
 * `util_wait_for_ready`, `util_get_*_names`; mix1009/sdwebuiapi@ce232f0 webuiapi.py, MIT), built only from
 * plain A1111 routes so they work against A1111 itself.
 */
import type { SDClient } from '../client.ts';
import { APIUserAbortError, SDError } from '../core/errors.ts';
import { similarityRatio } from './similarity.ts';

export interface ModelChoice {
  /** When no title or name matches exactly, take the most similar title (default true, as webuiapi). */
  findClosest?: boolean;
}

export async function modelNames(client: SDClient): Promise<string[]> {
  return (await client.sdModels.list()).map((m) => m.title).sort();
}

export async function samplerNames(client: SDClient): Promise<string[]> {
  return (await client.samplers.list()).map((s) => s.name).sort();
}

export async function schedulerNames(client: SDClient): Promise<string[]> {
  return (await client.schedulers.list()).map((s) => s.name).sort();
}

/**
 * Picks a checkpoint title for `name`: an exact title, else a title/name/file name equal ignoring case, else
 * (findClosest) the most similar title by difflib ratio; then POSTs `{sd_model_checkpoint: title}`, which makes
 * the server load it. Resolves to the title.
 */
export async function setModel(client: SDClient, name: string, { findClosest = true }: ModelChoice = {}): Promise<string> {
  const models = await client.sdModels.list();
  const lower = name.toLowerCase();
  const exact =
    models.find((m) => m.title === name) ??
    models.find((m) => [m.title, m.model_name, m.title.replace(/ \[[0-9a-f]+\]$/, ''), baseName(m.filename)].some((n) => n.toLowerCase() === lower));
  let title = exact?.title;
  if (!title && findClosest && models.length > 0) {
    let best = -1;
    // `>=` and sorted titles: the last of equally similar titles wins, as in webuiapi.
    for (const t of models.map((m) => m.title).sort()) {
      const r = similarityRatio(lower, t.toLowerCase());
      if (r >= best) [best, title] = [r, t];
    }
  }
  if (!title) {
    const valid = models.map((m) => m.title).join(', ') || '(the server lists no checkpoints)';
    throw new SDError(`setModel: no checkpoint named "${name}"; valid titles: ${valid}`);
  }
  await client.options.update({ sd_model_checkpoint: title });
  return title;
}

/** `sd_model_checkpoint` of the options, else the listed model whose sha256 is `sd_checkpoint_hash`, else null. */
export async function currentModel(client: SDClient): Promise<string | null> {
  const options = await client.options.retrieve();
  if (typeof options.sd_model_checkpoint === 'string' && options.sd_model_checkpoint !== '') return options.sd_model_checkpoint;
  const hash = options.sd_checkpoint_hash;
  if (!hash) return null;
  return (await client.sdModels.list()).find((m) => m.sha256 === hash)?.title ?? null;
}

export interface WaitForReadyOptions {
  /** Milliseconds between polls (default 5000, webuiapi's 5 s). */
  interval?: number;
  /** Give up after this many milliseconds (default: never). */
  timeout?: number;
  signal?: AbortSignal;
  /** Called with each busy progress reading. */
  onBusy?: (progress: number, jobCount: number) => void;
}

/** Polls GET /progress until `progress` is 0 and `state.job_count` is 0. */
export async function waitForReady(client: SDClient, { interval = 5000, timeout, signal, onBusy }: WaitForReadyOptions = {}): Promise<void> {
  const deadline = timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout;
  for (;;) {
    const p = await client.progress.retrieve({ skip_current_image: true }, { signal });
    if (p.progress === 0 && p.state.job_count === 0) return;
    onBusy?.(p.progress, p.state.job_count);
    if (Date.now() + interval > deadline)
      throw new SDError(`waitForReady: the server is still busy after ${timeout} ms (progress ${p.progress}, job_count ${p.state.job_count})`);
    await delay(interval, signal);
  }
}

/** Resolves after `ms`, or rejects with APIUserAbortError when `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function baseName(path: string): string {
  return (path.split(/[\\/]/).pop() ?? path).replace(/\.[^.]*$/, '');
}
