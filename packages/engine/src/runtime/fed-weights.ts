/**
 * The weights that sessions take as inputs instead of initializers (compile.ts `fedParams`): their checkpoint
 * values, read once, plus the overrides the current job feeds in their place (LoRA-merged weights). Without
 * overrides every run is fed the checkpoint's own float32 values, so a job without networks computes bit for
 * bit what it computed before any network was used, and applying a network never rebuilds a session.
 *
 * Why inputs rather than ONNX "overridable initializers" (an input with a same-named initializer as default):
 * onnxruntime-node feeds only `session.inputNames`, which leaves those out, so a feed for them is silently
 * ignored (checked with onnxruntime-node 1.30). ORT fuses the Transpose that `linear()` puts on a fed weight
 * into its MatMul (com.microsoft.FusedMatMul, transB), so fed Linear weights cost no transpose per run.
 */
import type { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { Tensor } from '../tensor.ts';
import { checkpointWeights } from './compile.ts';

export class FedWeights {
  private readonly values = new Map<string, Tensor>();
  private overrides: ReadonlyMap<string, Tensor> = new Map();

  constructor(private readonly file: SafetensorsFile) {}

  /** The checkpoint's float32 value of `key` (read on first use; the shape is checked against `dims`). */
  base(key: string, dims: readonly number[]): Tensor {
    let value = this.values.get(key);
    if (!value) {
      value = new Tensor(dims, checkpointWeights(this.file)(key, dims));
      this.values.set(key, value);
    }
    return value;
  }

  /** Reads the checkpoint values of `params` (name → dims) now rather than on the first run. */
  preload(params: ReadonlyMap<string, readonly number[]>): void {
    for (const [name, dims] of params) this.base(name, dims);
  }

  /**
   * Weights to feed instead of the checkpoint's until the next call (an empty map restores the checkpoint).
   * Each must have the shape of the weight it replaces.
   */
  setOverrides(weights: ReadonlyMap<string, Tensor>): void {
    for (const [key, value] of weights) {
      const base = this.values.get(key) ?? this.base(key, value.shape);
      if (base.shape.join() !== value.shape.join()) {
        throw new Error(`override for ${key} has shape [${value.shape.join(', ')}], the weight is [${base.shape.join(', ')}]`);
      }
    }
    this.overrides = weights;
  }

  /** Whether any weight currently differs from the checkpoint's. */
  get overridden(): boolean {
    return this.overrides.size > 0;
  }

  /** The feeds for a session's fed parameters: the override where there is one, else the checkpoint value. */
  feeds(params: ReadonlyMap<string, readonly number[]>): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {};
    for (const [name, dims] of params) feeds[name] = this.overrides.get(name) ?? this.base(name, dims);
    return feeds;
  }

  /** Drops everything (the model is being released). */
  clear(): void {
    this.values.clear();
    this.overrides = new Map();
  }
}
