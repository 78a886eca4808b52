/**
 * A loaded model's side of LoRA / LyCORIS: which weights its sessions take as inputs (the Linear and 1×1-conv
 * weights of the UNet and the text encoders; spatial convs in a UNet variant, see below), the layer table
 * networks are matched against, and merged weights cached per (network set, multipliers). Applying networks only
 * changes what the next runs feed; no session is rebuilt, and `restore()` feeds the checkpoint's weights again.
 */
import type { ModelConfig } from '../checkpoint/config.ts';
import type { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { buildLayerIndex, isNetworkTarget, type LayerIndex, type ParamLike } from '../networks/key-mapping.ts';
import { jsMatMul } from '../networks/lyco-math.ts';
import { type ActiveNetwork, type MergeResult, mergeNetworks } from '../networks/merge.ts';
import type { Graph } from '../onnx/graph.ts';
import { type FedValue, FedWeights } from '../runtime/fed-weights.ts';
import { ortMatMul } from '../runtime/ort-matmul.ts';

/**
 * Merged weight sets kept for reuse: the active one and the one before (each holds a copy of every weight it
 * touches, float16 for an F16 checkpoint: 0.65 GiB for a LoRA over every SD1.5 attention/ff/proj and CLIP layer,
 * twice that in float32, so the cache stays small).
 */
const MERGE_CACHE_SIZE = 2;

/**
 * Spatial (k×k, k > 1) conv weights stay initializers in the default sessions: ORT's NCHWc conv kernels need
 * constant weights, and feeding them made a 512² SD1.5 UNet step 2× slower (3.6 s vs 1.8 s, 16-core Xeon, ORT
 * 1.30), while fed Linear and 1×1-conv weights cost nothing measurable. Networks that patch spatial convs (LoCon,
 * LoHa, LoKr on ResBlocks) run the UNet's `+spatial` session variant, compiled once on first use and kept.
 */
/** A weight with a k×k kernel, k > 1 (what the `+spatial` variant feeds besides Linear and 1×1 weights). */
export const isSpatialConv = (dims: readonly number[]) => dims.length === 4 && dims[2] * dims[3] > 1;

/** A merge as it is cached and applied: its weights held as they are fed (`FedWeights.asFed`). */
export interface MergedNetworks extends Omit<MergeResult, 'weights'> {
  weights: Map<string, FedValue>;
}

export class ModelNetworks {
  readonly weights: FedWeights;
  /** Whether the weights being fed include spatial conv weights (the UNet then runs its `+spatial` variant). */
  patchesSpatialConvs = false;
  /** Whether networks are applied (merged weights are fed instead of the checkpoint's). */
  active = false;
  private index: LayerIndex | null = null;
  private readonly cache = new Map<string, Promise<MergedNetworks>>();

  constructor(
    file: SafetensorsFile,
    private readonly config: ModelConfig,
    private readonly targetGraphs: () => Graph[],
  ) {
    this.weights = new FedWeights(file);
  }

  /**
   * The parameters of `graph` that its session takes as inputs: name → dims (none for graphs networks never patch;
   * spatial conv weights only in the `spatial` variant).
   */
  fedParams(graph: Graph, patchable: boolean, spatial = false): Map<string, readonly number[]> {
    const fed = new Map<string, readonly number[]>();
    if (!patchable) return fed;
    for (const p of graph.params.values()) if (isNetworkTarget(p.name, p.dims) && (spatial || !isSpatialConv(p.dims))) fed.set(p.name, p.dims);
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
  merge(networks: readonly ActiveNetwork[], cacheKey: string): Promise<MergedNetworks> {
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
    }).then((result) => this.asFed(result));
    merged.catch(() => this.cache.delete(cacheKey));
    this.cache.set(cacheKey, merged);
    if (this.cache.size > MERGE_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return merged;
  }

  /**
   * Narrows each merged float32 weight to how it is fed (float16 for an F16 checkpoint), dropping the float32 one
   * as it goes, so a cached merge holds one copy of each weight, at the size it is fed.
   */
  private asFed(result: MergeResult): MergedNetworks {
    const weights = new Map<string, FedValue>();
    for (const [key, value] of result.weights) {
      weights.set(key, this.weights.asFed(key, value));
      result.weights.delete(key);
    }
    return { ...result, weights };
  }

  /** Feeds `weights` (checkpoint key → merged value) from the next run on. */
  apply(weights: ReadonlyMap<string, FedValue>): void {
    this.weights.setOverrides(weights);
    this.patchesSpatialConvs = [...weights.values()].some((w) => isSpatialConv(w.shape));
    this.active = weights.size > 0;
  }

  /** Feeds the checkpoint's own weights again. */
  restore(): void {
    this.apply(new Map());
  }

  clear(): void {
    this.cache.clear();
    this.weights.clear();
  }
}
