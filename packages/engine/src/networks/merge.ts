/**
 * Merges a stack of networks into a model's weights the way A1111 v1.10.1's Lora extension patches them
 * (fixtures/lora/README.md): each network's modules are matched to layers, then applied in tag order,
 * W ← (W + ΔW₁) + ΔW₂, in float32. What A1111 skips we skip too, but say so: modules that match no layer, and
 * modules whose ΔW does not fit the layer (counted per network, A1111's "Networks with errors").
 * The result holds only the touched weights, keyed by checkpoint key; the caller feeds them to the sessions.
 */
import { Tensor } from '../tensor.ts';
import { type LayerIndex, type ModuleMatch, matchModule, type NetworkTarget, usesTextEncoderMultiplier } from './key-mapping.ts';
import type { MatMul } from './lyco-math.ts';
import { type NetworkFile, type NetworkModuleWeights, unsupportedMessage } from './network-file.ts';
import { addUpdown, calcScale, calcUpdown, finalizeUpdown } from './updown.ts';

/** One `<lora:…>` tag resolved to its file. */
export interface ActiveNetwork {
  /** The name as written in the prompt (A1111 `mentioned_name`). */
  name: string;
  file: NetworkFile;
  te: number;
  unet: number;
  dyn: number | null;
}

export interface MergeContext {
  index: LayerIndex;
  /** A1111 `is_sd2`: SD2's text encoder takes `lora_te_` names in OpenCLIP form. */
  isSd2: boolean;
  /** The checkpoint's float32 value of a target weight. */
  baseWeight: (key: string) => Tensor;
  matmul: MatMul;
}

export interface MergeResult {
  /** Checkpoint key → merged weight, for every weight some network changed. */
  weights: Map<string, Tensor>;
  /** Network name → layers that failed to apply (A1111 `extra_network_lora.errors`). */
  errors: Map<string, number>;
  /** Human-readable notes: unmatched modules, failed layers, skipped attention groups, refused networks. */
  warnings: string[];
  /** Networks not applied at all (a matched module of a type this engine does not implement). */
  refused: string[];
}

interface Matched {
  module: NetworkModuleWeights;
  match: ModuleMatch;
}

/** Applies `networks` in order; never throws for a module that does not fit (it is reported instead). */
export async function mergeNetworks(networks: readonly ActiveNetwork[], ctx: MergeContext): Promise<MergeResult> {
  const result: MergeResult = { weights: new Map(), errors: new Map(), warnings: [], refused: [] };
  const mhaOutKeys = new Set([...ctx.index.values()].flatMap((t) => (t.outKey ? [t.outKey] : [])));
  for (const net of networks) {
    const matched = matchNetwork(net, ctx, result.warnings);
    const bad = [...matched.values()].find(({ module }) => module.type === null);
    if (bad) {
      // A1111 fails to load such a network and generates without it.
      result.warnings.push(`Lora ${net.name}: ${unsupportedMessage(bad.module.name, bad.module.unsupported ?? 'cannot be applied')}`);
      result.refused.push(net.name);
      continue;
    }
    const mhaLayers = new Map<string, NetworkTarget>();
    for (const { module, match } of matched.values()) {
      if (match.target.kind === 'mha') mhaLayers.set(match.target.layer, match.target);
      else if (mhaOutKeys.has(match.target.key))
        continue; // applied with its attention's q/k/v below, or not at all
      else await applyLayer(net, module, match, ctx, result);
    }
    for (const target of mhaLayers.values()) await applyAttention(net, target, matched, ctx, result);
    reportOrphanOutProjections(net, matched, mhaLayers, mhaOutKeys, result.warnings);
  }
  return result;
}

/** Matches every module of one network; A1111 files modules under their converted name, a later one replacing an earlier. */
function matchNetwork(net: ActiveNetwork, ctx: MergeContext, warnings: string[]): Map<string, Matched> {
  const matched = new Map<string, Matched>();
  const unmatched: string[] = [];
  for (const module of net.file.modules.values()) {
    const match = matchModule(module.name, ctx.index, ctx.isSd2);
    if (!match) {
      unmatched.push(module.name);
      continue;
    }
    const earlier = matched.get(match.sdKey);
    if (earlier) warnings.push(`Lora ${net.name}: modules ${earlier.module.name} and ${module.name} both map to layer ${match.sdKey}; the later one is used`);
    matched.set(match.sdKey, { module, match });
  }
  if (unmatched.length > 0) {
    warnings.push(
      `Lora ${net.name}: ${unmatched.length} module${unmatched.length === 1 ? '' : 's'} matched no layer of this model and ${unmatched.length === 1 ? 'was' : 'were'} skipped: ${unmatched.join(', ')}`,
    );
  }
  if (net.file.bundledEmbeddings.length > 0) {
    warnings.push(`Lora ${net.name}: bundled embeddings (${net.file.bundledEmbeddings.join(', ')}) are not applied`);
  }
  return matched;
}

const multiplierOf = (net: ActiveNetwork, sdKey: string) => (usesTextEncoderMultiplier(sdKey) ? net.te : net.unet);

/** W ← W + ΔW for `key`: onto the merge so far in place, else onto a new copy of the checkpoint's weight. */
function accumulate(key: string, delta: Tensor, ctx: MergeContext, result: MergeResult): void {
  const merged = result.weights.get(key);
  result.weights.set(key, addUpdown(merged ?? ctx.baseWeight(key), delta, merged !== undefined));
}

async function deltaFor(net: ActiveNetwork, module: NetworkModuleWeights, sdKey: string, target: readonly number[], ctx: MergeContext): Promise<Tensor> {
  const { updown, dim } = await calcUpdown(module, target, net.dyn, ctx.matmul);
  return finalizeUpdown(updown, target, calcScale(module, dim), multiplierOf(net, sdKey));
}

function countError(net: ActiveNetwork, layer: string, error: unknown, result: MergeResult): void {
  result.errors.set(net.name, (result.errors.get(net.name) ?? 0) + 1);
  result.warnings.push(`Lora ${net.name} layer ${layer}: ${(error as Error).message}; this layer was left unchanged`);
}

async function applyLayer(net: ActiveNetwork, module: NetworkModuleWeights, match: ModuleMatch, ctx: MergeContext, result: MergeResult): Promise<void> {
  const { key, dims } = match.target;
  try {
    accumulate(key, await deltaFor(net, module, match.sdKey, dims, ctx), ctx, result);
  } catch (error) {
    countError(net, match.target.layer, error, result);
  }
}

/**
 * torch MultiheadAttention (OpenCLIP): A1111 patches the fused in_proj with [Δq; Δk; Δv] and out_proj with Δout,
 * and only when all four modules are present; otherwise the layer keeps its weights.
 */
async function applyAttention(
  net: ActiveNetwork,
  target: NetworkTarget,
  matched: ReadonlyMap<string, Matched>,
  ctx: MergeContext,
  result: MergeResult,
): Promise<void> {
  const parts = ['q_proj', 'k_proj', 'v_proj', 'out_proj'].map((p) => matched.get(`${target.layer}_${p}`));
  if (parts.some((p) => !p) || !target.outKey) {
    const present = ['q', 'k', 'v', 'out'].filter((_, i) => parts[i]);
    result.warnings.push(
      `Lora ${net.name}: attention ${target.layer} has modules for ${present.join(', ')} only; A1111 patches a MultiheadAttention only when q, k, v and out_proj are all present, so it was skipped`,
    );
    return;
  }
  const [q, k, v, out] = parts as Matched[];
  const outKey = target.outKey;
  try {
    const qkv = await Promise.all([q, k, v].map((p) => deltaFor(net, p.module, p.match.sdKey, target.dims, ctx)));
    const outDelta = await deltaFor(net, out.module, out.match.sdKey, ctx.baseWeight(outKey).shape, ctx);
    // As in A1111, in_proj stays patched if out_proj then fails (the two are updated one after the other).
    accumulate(target.key, vstack(qkv), ctx, result);
    accumulate(outKey, outDelta, ctx, result);
  } catch (error) {
    countError(net, target.layer, error, result);
  }
}

/** torch.vstack of 2-D tensors. */
function vstack(parts: readonly Tensor[]): Tensor {
  const width = parts[0].shape[1];
  if (parts.some((t) => t.shape.length !== 2 || t.shape[1] !== width))
    throw new Error(`cannot stack q/k/v deltas of shapes ${parts.map((t) => `[${t.shape.join(', ')}]`).join(', ')}`);
  const out = new Float32Array(parts.reduce((n, t) => n + t.size, 0));
  let offset = 0;
  for (const t of parts) {
    out.set(t.data, offset);
    offset += t.size;
  }
  return new Tensor([out.length / width, width], out);
}

function reportOrphanOutProjections(
  net: ActiveNetwork,
  matched: ReadonlyMap<string, Matched>,
  mhaLayers: ReadonlyMap<string, NetworkTarget>,
  outKeys: ReadonlySet<string>,
  warnings: string[],
): void {
  for (const { match } of matched.values()) {
    if (!outKeys.has(match.target.key)) continue;
    const owner = match.sdKey.replace(/_out_proj$/, '');
    if (!mhaLayers.has(owner))
      warnings.push(
        `Lora ${net.name}: ${match.sdKey} has no q/k/v modules beside it; A1111 patches a MultiheadAttention's out_proj only together with them, so it was skipped`,
      );
  }
}
