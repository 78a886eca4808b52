/**
 * Key and shape queries over a TensorIndex for the detectors: presence, shapes, and the distinct block indices
 * under a prefix (`input_blocks.N.`, `transformer_blocks.K.`). Missing required keys become UnsupportedModelError
 * naming the key, because a checkpoint that lacks one is a layout we do not know, not a corrupt file.
 */
import { UnsupportedModelError } from '../errors.ts';
import type { TensorIndex } from './tensor-index.ts';

export class KeyShapes {
  readonly keys: readonly string[];
  readonly where: string;
  private readonly set: Set<string>;

  constructor(private readonly index: TensorIndex) {
    this.keys = index.keys();
    this.set = new Set(this.keys);
    this.where = index.path ?? 'checkpoint';
  }

  has(name: string): boolean {
    return this.set.has(name);
  }

  hasPrefix(prefix: string): boolean {
    return this.keys.some((k) => k.startsWith(prefix));
  }

  shape(name: string): readonly number[] | undefined {
    return this.set.has(name) ? this.index.info(name).shape : undefined;
  }

  /** Shape of a tensor the layout requires; `what` says which part of the model needed it. */
  need(name: string, what: string): readonly number[] {
    const shape = this.shape(name);
    if (!shape)
      throw new UnsupportedModelError(
        `${this.where}: ${what}: expected tensor '${name}' is missing (an unusual or pruned layout; sdapi reads single-file SD1.x/SD2.x/SDXL checkpoints)`,
      );
    return shape;
  }

  /** Distinct integers N of keys `${prefix}N.…`, ascending. */
  indices(prefix: string): number[] {
    const found = new Set<number>();
    for (const key of this.keys) {
      if (!key.startsWith(prefix)) continue;
      const match = /^(\d+)\./.exec(key.slice(prefix.length));
      if (match) found.add(Number(match[1]));
    }
    return [...found].sort((a, b) => a - b);
  }

  /** The first key under `prefix` ending in `suffix`, in header order. */
  find(prefix: string, suffix: string): string | undefined {
    return this.keys.find((k) => k.startsWith(prefix) && k.endsWith(suffix));
  }

  metadata(key: string): string | undefined {
    const value = this.index.metadata?.[key];
    return typeof value === 'string' ? value : undefined;
  }

  unsupported(problem: string): UnsupportedModelError {
    return new UnsupportedModelError(`${this.where}: ${problem}`);
  }
}
