/**
 * A loaded model's side of LoRA / LyCORIS: which weights its sessions take as inputs (every Linear/Conv2d weight
 * of the UNet and the text encoders, the weights networks can patch), the layer table networks are matched
 * against, and merged weights cached per (network set, multipliers). Applying networks only changes what the
 * next runs feed; no session is rebuilt, and `restore()` feeds the checkpoint's weights again.
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import type { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { buildLayerIndex, isNetworkTarget, type LayerIndex, type ParamLike } from '../networks/key-mapping.ts';
import { jsMatMul } from '../networks/lyco-math.ts';
import { type ActiveNetwork, mergeNetworks, type MergeResult } from '../networks/merge.ts';
import type { Graph } from '../onnx/graph.ts';
import { FedWeights } from '../runtime/fed-weights.ts';
import { ortMatMul } from '../runtime/ort-matmul.ts';
import type { Tensor } from '../tensor.ts';

/**
 * Merged weight sets kept for reuse: the active one and the one before (each holds a float32 copy of every weight
 * it touches: 1.3 GiB for a LoRA over every SD1.5 attention/ff/proj and CLIP layer, so the cache stays small).
 */
const MERGE_CACHE_SIZE = 2;

export class ModelNetworks {
  readonly weights: FedWeights;
  private index: LayerIndex | null = null;
  private readonly cache = new Map<string, Promise<MergeResult>>();

  constructor(file: SafetensorsFile, private readonly config: ModelConfig, private readonly targetGraphs: () => Graph[]) {
    this.weights = new FedWeights(file);
  }

  /** The parameters of `graph` that its session takes as inputs: name → dims (none for graphs networks never patch). */
  fedParams(graph: Graph, patchable: boolean): Map<string, readonly number[]> {
    const fed = new Map<string, readonly number[]>();
    if (patchable) for (const p of graph.params.values()) if (isNetworkTarget(p.name, p.dims)) fed.set(p.name, p.dims);
    return fed;
  }

  /** A1111 layer name → target weight, from the UNet and text-encoder graphs (built once). */
  layers(): LayerIndex {
    if (!this.index) {
      const params: ParamLike[] = this.targetGraphs().flatMap((g) => [...g.params.values()]);
      this.index = buildLayerIndex(this.config, params);
    }
    return this.index;
  }

  /** Merges `networks` onto the checkpoint (cached by files and multipliers); does not apply them. */
  merge(networks: readonly ActiveNetwork[], cacheKey: string): Promise<MergeResult> {
    const cached = this.cache.get(cacheKey);
    if (cached) {
      this.cache.delete(cacheKey); // refresh its place in the LRU order
      this.cache.set(cacheKey, cached);
      return cached;
    }
    const index = this.layers();
    const dims = new Map([...index.values()].map((t) => [t.key, t.dims]));
    const merged = mergeNetworks(networks, {
      index,
      isSd2: this.config.family === 'sd2',
      baseWeight: (key) => {
        const d = dims.get(key);
        if (!d) throw new Error(`${key} is not a weight networks can patch`);
        return this.weights.base(key, d);
      },
      matmul: ortMatMul(jsMatMul),
    });
    merged.catch(() => this.cache.delete(cacheKey));
    this.cache.set(cacheKey, merged);
    if (this.cache.size > MERGE_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return merged;
  }

  /** Feeds `weights` (checkpoint key → merged value) from the next run on. */
  apply(weights: ReadonlyMap<string, Tensor>): void {
    this.weights.setOverrides(weights);
  }

  /** Feeds the checkpoint's own weights again. */
  restore(): void {
    this.weights.setOverrides(new Map());
  }

  clear(): void {
    this.cache.clear();
    this.weights.clear();
  }
}
