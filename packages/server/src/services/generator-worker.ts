/**
 * Engine entry of WorkerGenerator, in a child process or a worker thread (engine-host.ts): hosts one
 * EngineGenerator, so onnxruntime's runs (synchronous native calls in onnxruntime-node, seconds per UNet step on a
 * full model), graph building and weight conversion never hold the server's event loop. Messages: `{id, method,
 * args}` calls answered with `{id, result}` or `{id, error}`; `{control: 'interrupt' | 'skip', id}` for a running
 * job; progress and log lines flow back. A process gets its options as the first message, `{init}`.
 */
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { GenerationHooks, GenerationProgress } from '@sdapi/engine';
import { EngineGenerator, type EngineGeneratorOptions } from './engine-generator.ts';
import { resultToWire } from './engine-wire.ts';

type Listener = (message: CallMessage) => void;
interface Port {
  postMessage(message: unknown): void;
  onMessage(listener: Listener): void;
}

/** The way back to the server, and the options it started this engine with. */
async function connect(): Promise<{ port: Port; init: EngineGeneratorOptions }> {
  if (parentPort) {
    const thread = parentPort;
    return { port: { postMessage: (m) => thread.postMessage(m), onMessage: (l) => thread.on('message', l) }, init: workerData as EngineGeneratorOptions };
  }
  if (!process.send) throw new Error('generator-worker.ts runs as a worker thread or a forked process (see engine-host.ts)');
  // The server went away (ended, or killed with -9): so does the engine, whatever it was doing.
  process.on('disconnect', () => process.exit(0));
  // Calls may arrive right behind `{init}`: they wait here until the handler is in place.
  const early: CallMessage[] = [];
  let listener: Listener = (m) => void early.push(m);
  let gotInit: (init: EngineGeneratorOptions) => void = () => undefined;
  const init = new Promise<EngineGeneratorOptions>((resolve) => {
    gotInit = resolve;
  });
  process.on('message', (m: CallMessage | { init: EngineGeneratorOptions }) => ('init' in m ? gotInit(m.init) : listener(m)));
  const port: Port = {
    postMessage: (message) => {
      if (process.connected) process.send?.(message);
    },
    onMessage: (l) => {
      listener = l;
      for (const m of early.splice(0)) l(m);
    },
  };
  return { port, init: await init };
}

const { port, init } = await connect();
const generator = new EngineGenerator({ ...init, log: (line) => port.postMessage({ log: line }) });

interface CallMessage {
  id: number;
  method?: string;
  args?: unknown[];
  control?: 'interrupt' | 'skip';
}

interface Running {
  interrupt: AbortController;
  skip: AbortController;
}
const running = new Map<number, Running>();

/** Errors cross as plain data; `code` (ApiError / EngineError) is what the server's error table reads. */
function serialise(error: unknown) {
  const e = error as { name?: string; message?: string; code?: unknown; stack?: string; headers?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(error), code: e?.code, stack: e?.stack, headers: e?.headers };
}

function hooksFor(id: number): GenerationHooks {
  const job: Running = { interrupt: new AbortController(), skip: new AbortController() };
  running.set(id, job);
  return {
    signal: job.interrupt.signal,
    // As the queue does: a skip applies to the batch that was running; the next batch asks for a fresh signal.
    skipSignal: () => {
      if (job.skip.signal.aborted) job.skip = new AbortController();
      return job.skip.signal;
    },
    onProgress: (p: GenerationProgress) => port.postMessage({ id, progress: p }),
  };
}

const METHODS = new Set([
  'listCheckpoints',
  'loadCheckpoint',
  'hashCheckpoint',
  'txt2img',
  'img2img',
  'listEmbeddings',
  'refreshEmbeddings',
  'refreshLoras',
  'unloadCheckpoint',
  'upscaleImage',
  'close',
]);

/**
 * A full garbage collection of this thread's heap when the process allows one (`--expose-gc`, or
 * `v8.setFlagsFromString('--expose-gc')` before the worker starts): memory measurements (load test, soak) call it
 * so that RSS figures are not V8's lazily shrunk heap. Returns whether it ran.
 */
function collectGarbage(): boolean {
  try {
    const gc = runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return false;
    gc();
    return true;
  } catch {
    return false;
  }
}

port.onMessage(async (message) => {
  const { id } = message;
  if (message.control) {
    const job = running.get(id);
    if (message.control === 'interrupt') job?.interrupt.abort();
    else job?.skip.abort();
    return;
  }
  const method = message.method ?? '';
  try {
    if (method === 'collectGarbage') {
      port.postMessage({ id, result: collectGarbage() });
      return;
    }
    if (method === 'rss') {
      port.postMessage({ id, result: process.memoryUsage().rss });
      return;
    }
    if (!METHODS.has(method)) throw new Error(`generator worker: unknown method ${method}`);
    const args = [...(message.args ?? [])];
    if (method === 'txt2img' || method === 'img2img') args[1] = hooksFor(id);
    if (method === 'upscaleImage') args[4] = hooksFor(id); // its interrupt
    const fn = (generator as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    const result = await fn.apply(generator, args);
    port.postMessage({ id, result: resultToWire(result) });
  } catch (error) {
    port.postMessage({ id, error: serialise(error) });
  } finally {
    running.delete(id);
  }
});
