/**
 * The weights that sessions take as inputs instead of initializers (compile.ts `fedParams`): their checkpoint
 * values, read once, plus the overrides the current job feeds in their place (LoRA-merged weights). Without
 * overrides every run is fed the checkpoint's own values, so a job without networks computes bit for bit what it
 * computed before any network was used, and applying a network never rebuilds a session. An F16 checkpoint's
 * weights are kept and fed as float16 (half the memory; the session widens them, onnx/float16-fed.ts).
 *
 * Why inputs rather than ONNX "overridable initializers" (an input with a same-named initializer as default):
 * onnxruntime-node feeds only `session.inputNames`, which leaves those out, so a feed for them is silently
 * ignored (checked with onnxruntime-node 1.30). ORT fuses the Transpose that `linear()` puts on a fed weight
 * into its MatMul (com.microsoft.FusedMatMul, transB), so fed Linear weights cost no transpose per run.
 */
import { floatsToHalves } from '../checkpoint/float16.ts';
import { halvesToFloat32, type SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { checkpointWeights } from './compile.ts';
import type { Float16Input } from './ort.ts';

/** A weight as it is held and fed: float16 bits for the keys `isFloat16` names, float32 otherwise. */
export type FedValue = Tensor | Float16Input;

export class FedWeights {
  /** The checkpoint's values: float16 bits for F16 tensors (fed as float16, onnx/float16-fed.ts), float32 otherwise. */
  private readonly values = new Map<string, FedValue>();
  private overrides: ReadonlyMap<string, FedValue> = new Map();

  constructor(private readonly file: SafetensorsFile) {}

  /**
   * Whether `key` is stored and fed as float16: an F16 tensor is (it widens exactly, so nothing changes but the
   * memory it takes, half of float32's); F32 and BF16 ones stay float32.
   */
  isFloat16(key: string): boolean {
    return this.file.has(key) && this.file.info(key).dtype === 'F16';
  }

  /** The checkpoint's float32 value of `key` (what merges start from; widened afresh when it is stored as float16). */
  base(key: string, dims: readonly number[]): Tensor {
    const stored = this.stored(key, dims);
    if (stored instanceof Tensor) return stored;
    return new Tensor(stored.shape, halvesToFloat32(stored.float16));
  }

  /** Reads the checkpoint values of `params` (name → dims) now rather than on the first run. */
  preload(params: ReadonlyMap<string, readonly number[]>): void {
    for (const [name, dims] of params) this.stored(name, dims);
  }

  /**
   * Weights to feed instead of the checkpoint's until the next call (an empty map restores the checkpoint).
   * Each must have the shape of the weight it replaces; a float32 one for a float16 key is rounded here, once.
   */
  setOverrides(weights: ReadonlyMap<string, FedValue>): void {
    const overrides = new Map<string, FedValue>();
    for (const [key, value] of weights) {
      const base = this.values.get(key) ?? this.stored(key, value.shape);
      if (base.shape.join() !== value.shape.join()) {
        throw new Error(`override for ${key} has shape [${value.shape.join(', ')}], the weight is [${base.shape.join(', ')}]`);
      }
      overrides.set(key, this.asFed(key, value));
    }
    this.overrides = overrides;
  }

  /**
   * `value` as `key` is held and fed: rounded to float16 for a float16 key (as a GPU run of an F16 model merges),
   * unchanged otherwise. Merged network weights are kept this way, so an F16 model's cost half of float32's.
   */
  asFed(key: string, value: FedValue): FedValue {
    if (!(value instanceof Tensor) || !this.isFloat16(key)) return value;
    return { float16: floatsToHalves(value.data), shape: value.shape };
  }

  /** Whether any weight currently differs from the checkpoint's. */
  get overridden(): boolean {
    return this.overrides.size > 0;
  }

  /** The feeds for a session's fed parameters: the override where there is one, else the checkpoint value. */
  feeds(params: ReadonlyMap<string, readonly number[]>): Record<string, FedValue> {
    const feeds: Record<string, FedValue> = {};
    for (const [name, dims] of params) feeds[name] = this.overrides.get(name) ?? this.stored(name, dims);
    return feeds;
  }

  /** Drops everything (the model is being released). */
  clear(): void {
    this.values.clear();
    this.overrides = new Map();
  }

  private stored(key: string, dims: readonly number[]): FedValue {
    let value = this.values.get(key);
    if (!value) {
      if (this.isFloat16(key)) {
        const bits = this.file.readFloat16(key);
        const count = dims.reduce((a, b) => a * b, 1);
        if (bits.length !== count)
          throw new CheckpointError(this.file.path, `tensor '${key}' has ${bits.length} values but the graph expects [${dims.join(', ')}]`);
        value = { float16: bits, shape: [...dims] };
      } else {
        value = new Tensor(dims, checkpointWeights(this.file)(key, dims)); // checks the key and the shape
      }
      this.values.set(key, value);
    }
    return value;
  }
}
