/**
 * The only module that imports onnxruntime-node (as transformers.js keeps one backend file): sessions,
 * execution options, and conversion between our `Tensor` and ORT tensors.
 */
import * as ort from 'onnxruntime-node';
import { Tensor } from '../tensor.ts';

export interface SessionOptions {
  /** Threads for one operator (default: ORT's choice, all cores). */
  intraOpThreads?: number;
  /**
   * Save the optimised graph here, with its initializers in `weights.bin` beside it (external data), so a later
   * session can load it with `optimizationLevel: 'disabled'` and skip the optimiser (runtime/compile.ts's cache).
   */
  optimizedModelPath?: string;
  /** Graph optimisation level (default 'all'; 'disabled' for a model this ORT already optimised and saved). */
  optimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * false: no CPU memory arena. ORT still plans each run's activations as one block (its memory pattern), which is
   * then allocated at the start of the run and given back at its end, instead of staying in an arena that only
   * grows. Measured on the SD1.5 VAE decoder at 512² (2 cores): the same time per run after the first (15.2–15.6 s
   * against 15.0–15.5 s), 1.2 GB resident after a run instead of 2.8 GB. Without the pattern (per-operator
   * allocation) the same decode took 20.5 s.
   */
  memArena?: boolean;
}

/** The onnxruntime version: optimised models are only valid for the version (and CPU) that wrote them. */
export const ORT_VERSION: string = ort.env.versions.node ?? ort.env.versions.common;

/** An int64 input such as token ids. */
export interface Int64Input {
  readonly int64: BigInt64Array;
  readonly shape: readonly number[];
}

/** A float16 input (fed weights stored in half precision, onnx/float16-fed.ts): IEEE binary16 bits. */
export interface Float16Input {
  readonly float16: Uint16Array;
  readonly shape: readonly number[];
}

export type Feed = Tensor | Int64Input | Float16Input;

export class OrtSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Creates a CPU session from model bytes, or from a path (needed when weights live in external data). */
  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<OrtSession> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: options.optimizationLevel ?? 'all',
    };
    if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    if (options.memArena === false) sessionOptions.enableCpuMemArena = false;
    if (options.optimizedModelPath !== undefined) {
      sessionOptions.optimizedModelFilePath = options.optimizedModelPath;
      // Initializers of ≥ 1 KiB go to weights.bin next to the model: a UNet's weights exceed protobuf's 2 GiB.
      // ORT warns that an 'all'-level model is CPU-specific; the cache key holds the CPU and ORT version.
      sessionOptions.logSeverityLevel = 3;
      sessionOptions.extra = {
        session: { optimized_model_external_initializers_file_name: 'weights.bin', optimized_model_external_initializers_min_size_in_bytes: '1024' },
      };
    }
    const session =
      typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
    return new OrtSession(session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the graph; float32 outputs come back as `Tensor`s. */
  async run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, feed] of Object.entries(feeds)) {
      ortFeeds[name] =
        feed instanceof Tensor
          ? new ort.Tensor('float32', feed.data, feed.shape as number[])
          : 'float16' in feed
            ? new ort.Tensor('float16', feed.float16, feed.shape as number[])
            : new ort.Tensor('int64', feed.int64, feed.shape as number[]);
    }
    const results = await this.session.run(ortFeeds);
    const out: Record<string, Tensor> = {};
    for (const [name, value] of Object.entries(results)) {
      if (value.type !== 'float32') throw new Error(`output ${name} is ${value.type}; only float32 outputs are supported`);
      out[name] = new Tensor(value.dims, value.data as Float32Array);
      value.dispose?.();
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
