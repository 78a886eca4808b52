/**
 * Where WorkerGenerator's engine lives: a child process (the default) or a worker thread. Both speak the same
 * messages (generator-worker.ts); this file hides how they travel.
 *
 * Why a process by default (issue 13 §8, §10): a thread's native memory (onnxruntime's arenas, malloc's per-thread
 * pools) never goes back to the system while the server runs, and a native crash in onnxruntime (SIGSEGV, abort on
 * an allocation failure) takes the whole server with it. A process gives both back: unloading the model ends it and
 * its memory is the kernel's again, and a crash fails the jobs in flight while the server keeps answering. Measured on
 * the tiny model (npm run soak): RSS cold 226 MiB, after unload-checkpoint 271 MiB with a thread, the server's alone
 * with a process. The cost is the start of a fresh Node process (about 0.3 s) and messages crossing a pipe instead of
 * memory (an image of 512² is 1 MiB: milliseconds).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export type EngineIsolation = 'process' | 'thread';

export interface EngineHost {
  post(message: unknown): void;
  /** The engine's process id, or null when it shares the server's process (a thread). */
  readonly pid: number | null;
  /** While nothing is in flight, an idle engine does not keep the server's process alive. */
  ref(): void;
  unref(): void;
  /** Ends the engine at once (no goodbye: callers ask it to release what it holds first). */
  terminate(): Promise<void>;
}

export interface EngineHostEvents {
  message: (message: never) => void;
  /** The engine ended or failed to start; not called after `terminate`. */
  lost: (cause: Error) => void;
}

const BOOT = new URL('./generator-worker-boot.mjs', import.meta.url);

export function startEngineHost(isolation: EngineIsolation, init: unknown, events: EngineHostEvents): EngineHost {
  return isolation === 'thread' ? threadHost(init, events) : processHost(init, events);
}

function threadHost(init: unknown, events: EngineHostEvents): EngineHost {
  const worker = new Worker(BOOT, { workerData: init });
  let ended = false;
  worker.on('message', (m) => events.message(m as never));
  worker.on('error', (error) => ended || events.lost(error));
  worker.on('exit', (code) => ended || events.lost(new Error(`the generator worker exited with code ${code}`)));
  return {
    pid: null,
    post: (message) => worker.postMessage(message),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
    terminate: async () => {
      ended = true;
      await worker.terminate();
    },
  };
}

function processHost(init: unknown, events: EngineHostEvents): EngineHost {
  // `advanced` serialisation is the structured clone a worker thread uses, so typed arrays (pixels) cross as they are.
  // Its own flags only: the server's (a test runner's, an inspector port) do not belong to the engine. `--expose-gc`
  // lets memory measurements collect its heap (collectGarbage), as `v8.setFlagsFromString` does for a thread.
  const child: ChildProcess = fork(fileURLToPath(BOOT), [], {
    serialization: 'advanced',
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SDAPI_ENGINE_PROCESS: '1' },
  });
  let ended = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (m) => events.message(m as never));
  child.on('error', (error) => ended || events.lost(error));
  child.on('exit', (code, signal) => {
    if (!ended) events.lost(new Error(`the generator process exited (${signal ? `signal ${signal}` : `code ${code}`})`));
  });
  const post = (message: unknown) => {
    if (child.connected) child.send(message as never);
  };
  post({ init });
  return {
    pid: child.pid ?? null,
    post,
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
    terminate: async () => {
      ended = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.ref(); // an idle (unref'd) child would not hold the event loop open until its exit is seen
        child.kill('SIGKILL');
      }
      await exited;
    },
  };
}
