/**
 * The only module that imports onnxruntime-node (as transformers.js keeps one backend file): sessions,
 * execution options, and conversion between our `Tensor` and ORT tensors.
 */
import * as ort from 'onnxruntime-node';
import { Tensor } from '../tensor.ts';

export interface SessionOptions {
  /** Threads for one operator (default: ORT's choice, all cores). */
  intraOpThreads?: number;
  /** Save the optimised graph here (debugging). */
  optimizedModelPath?: string;
}

/** An int64 input such as token ids. */
export interface Int64Input {
  readonly int64: BigInt64Array;
  readonly shape: readonly number[];
}

export type Feed = Tensor | Int64Input;

export class OrtSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  /** Creates a CPU session from model bytes, or from a path (needed when weights live in external data). */
  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<OrtSession> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
    };
    if (options.intraOpThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpThreads;
    if (options.optimizedModelPath !== undefined) sessionOptions.optimizedModelFilePath = options.optimizedModelPath;
    const session = typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
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
      ortFeeds[name] = feed instanceof Tensor
        ? new ort.Tensor('float32', feed.data, feed.shape as number[])
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
