/**
 * Extra-network activation for one batch, with the behaviour of A1111 v1.10.1's `extra_networks.activate` and
 * builtin Lora extension (spec §6.3, fixtures/lora/README.md): the `<lora:…>` (or `<lyco:…>`) tags of the batch's
 * first prompt are resolved by file stem or alias, merged in tag order and fed to the sessions; a batch without
 * tags feeds the checkpoint's weights again. What A1111 only logs (a name not found, unmatched or ill-fitting
 * modules, an unusable file) comes back as warnings; the infotext gets `Lora hashes`.
 */

import type { ActiveNetwork } from '../networks/merge.ts';
import { type ExtraNetworkData, type ExtraNetworkParams, loraMultipliers, parseExtraNetworks } from '../text/extra-networks.ts';
import { formatPyFloat } from './infotext.ts';
import type { LoadedModel } from './model.ts';
import type { GenerationOptions } from './types.ts';

export interface NetworkActivation {
  /** `{ 'Lora hashes': 'name: 12hex, …' }` when networks with a known hash are active, else `{}`. */
  extraGenerationParams: Record<string, unknown>;
  warnings: string[];
}

/** Characters A1111 strips from names in `Lora hashes` (they would break the infotext's own syntax). */
const HASH_NAME_STRIP = /[:,]/g;

/**
 * Activates the networks named in `data` (from the batch's first prompt) on `model` for the following runs.
 * @example
 * const { prompts, networks } = parseExtraNetworkPrompts(batchPrompts);
 * const { extraGenerationParams, warnings } = await activateNetworks(model, networks, params.options);
 */
export async function activateNetworks(model: LoadedModel, data: ExtraNetworkData, options: GenerationOptions): Promise<NetworkActivation> {
  const warnings: string[] = [];
  const tags = options.disable_extra_networks ? [] : loraTags(data, warnings);
  const networks: ActiveNetwork[] = [];
  const ids: string[] = [];
  const hashes: [string, string][] = [];
  for (const tag of tags) {
    const resolved = await resolveTag(model, tag, warnings);
    if (!resolved) continue;
    networks.push(resolved.network);
    ids.push(resolved.id);
    if (resolved.hash) hashes.push([resolved.network.name, resolved.hash]);
  }
  if (networks.length === 0) {
    model.networks.restore();
    return { extraGenerationParams: {}, warnings };
  }
  const key = JSON.stringify(networks.map((n, i) => [ids[i], n.te, n.unet, n.dyn]));
  const merged = await model.networks.merge(networks, key);
  model.networks.apply(merged.weights);
  warnings.push(...merged.warnings);
  if (merged.errors.size > 0) warnings.push(`Networks with errors: ${[...merged.errors].map(([name, n]) => `${name} (${n})`).join(', ')}`);
  // A1111 keys hashes by the name as written, so a network named twice is listed once.
  const applied = new Map(hashes.filter(([name]) => !merged.refused.includes(name)).map(([name, hash]) => [name.replace(HASH_NAME_STRIP, ''), hash]));
  const addHashes = options.lora_add_hashes_to_infotext ?? true;
  const text = [...applied].map(([name, hash]) => `${name}: ${hash}`).join(', ');
  return { extraGenerationParams: addHashes && applied.size > 0 ? { 'Lora hashes': text } : {}, warnings };
}

/**
 * Option `sd_lora` ("Add network to prompt", spec §6.3): A1111's Lora extension appends `<lora:NAME:MULT>` (MULT =
 * option extra_networks_default_multiplier) to every prompt when NAME is a LoRA file name (not an alias) and the
 * prompts' own tags do not name it already; the tag is then part of `all_prompts` and the infotexts. Nothing is
 * appended with `disable_extra_networks` (A1111 does not activate networks then).
 */
export function withSdLora(model: LoadedModel, prompts: string[], options: GenerationOptions): string[] {
  const name = options.sd_lora;
  if (!name || name === 'None' || options.disable_extra_networks || prompts.length === 0) return prompts;
  if (!model.loras?.list().some((e) => e.name === name)) return prompts;
  const tags = parseExtraNetworks(prompts[0]).networks;
  if ([...(tags.get('lora') ?? []), ...(tags.get('lyco') ?? [])].some((t) => t.items[0] === name)) return prompts;
  const tag = `<lora:${name}:${formatPyFloat(options.extra_networks_default_multiplier ?? 1)}>`;
  return prompts.map((p) => `${p}${tag}`);
}

/**
 * The tags the Lora extension gets. `lyco` is an alias of `lora`, but A1111 activates each name it finds in
 * turn and every activation replaces the networks, so with both kinds in one prompt the later kind wins.
 */
function loraTags(data: ExtraNetworkData, warnings: string[]): ExtraNetworkParams[] {
  let tags: ExtraNetworkParams[] = [];
  const kinds: string[] = [];
  for (const [kind, list] of data) {
    if (kind === 'lora' || kind === 'lyco') {
      tags = list;
      kinds.push(kind);
    } else {
      warnings.push(`extra network <${kind}:…> is not supported; the tag was removed from the prompt and ignored`);
    }
  }
  if (kinds.length > 1) warnings.push(`<lora:…> and <lyco:…> tags in one prompt: as in A1111, only the <${kinds[kinds.length - 1]}:…> tags apply`);
  return tags;
}

/** One tag → its network (and short hash), or null with a warning (A1111 skips it and generates without). */
async function resolveTag(
  model: LoadedModel,
  tag: ExtraNetworkParams,
  warnings: string[],
): Promise<{ network: ActiveNetwork; hash: string | null; id: string } | null> {
  const { name, te, unet, dyn } = loraMultipliers(tag);
  const entry = model.loras?.find(name);
  if (!entry) {
    warnings.push(`Lora not found: ${name}`);
    return null;
  }
  try {
    const file = model.loras?.load(entry);
    if (!file) return null;
    const hash = (await model.loras?.shortHash(entry)) ?? null;
    return { network: { name, file, te, unet, dyn }, hash, id: `${entry.path}|${entry.size}|${entry.mtimeMs}` };
  } catch (error) {
    warnings.push(`Lora ${name} (${entry.path}) cannot be used: ${(error as Error).message}`);
    return null;
  }
}
