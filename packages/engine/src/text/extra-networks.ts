/**
 * Extra-network tags such as `<lora:name:0.8>` and `<hypernet:name:0.5>` (behaviour of A1111
 * `extra_networks.parse_prompt(s)` and the builtin Lora extension's argument reading; spec §6.3, vector
 * `extra_networks_parse.json`). Tags are removed from the prompt text and returned by network name.
 */
import { InvalidParamsError } from '../errors.ts';
import { PY_WORD_CHARS, pyFloat } from './py-compat.ts';

/** One tag's arguments: `items` split on ':', those with exactly one '=' also as `named`, the rest `positional`. */
export interface ExtraNetworkParams {
  items: string[];
  positional: string[];
  named: Record<string, string>;
}

/** Network name (as written, e.g. 'lora', 'Lora', 'hypernet') → its tags in prompt order. */
export type ExtraNetworkData = Map<string, ExtraNetworkParams[]>;

/** A1111 `re_extra_net`: `<` word characters `:` anything but `>` `>`. */
const EXTRA_NET_RE = new RegExp(`<([${PY_WORD_CHARS}]+):([^>]+)>`, 'gu');

export function extraNetworkParams(items: string[]): ExtraNetworkParams {
  const positional: string[] = [];
  const named: Record<string, string> = Object.create(null);
  for (const item of items) {
    const parts = item.split('=');
    if (parts.length === 2) named[parts[0]] = parts[1];
    else positional.push(item);
  }
  return { items, positional, named };
}

/**
 * A1111 `extra_networks.parse_prompt`: removes every `<name:args>` tag (nothing else: spaces around it stay).
 *
 * @example
 * parseExtraNetworks('a <lora:foo:0.8> b') // { prompt: 'a  b', networks: Map { 'lora' => [{ items: ['foo', '0.8'], … }] } }
 */
export function parseExtraNetworks(prompt: string): { prompt: string; networks: ExtraNetworkData } {
  const networks: ExtraNetworkData = new Map();
  const stripped = prompt.replace(EXTRA_NET_RE, (_tag, name: string, args: string) => {
    const list = networks.get(name) ?? [];
    list.push(extraNetworkParams(args.split(':')));
    networks.set(name, list);
    return '';
  });
  return { prompt: stripped, networks };
}

/**
 * A1111 `extra_networks.parse_prompts`: strips the tags from every prompt of a batch; only the FIRST prompt's
 * tags decide which networks are active for the whole batch.
 */
export function parseExtraNetworkPrompts(prompts: readonly string[]): { prompts: string[]; networks: ExtraNetworkData } {
  const parsed = prompts.map(parseExtraNetworks);
  return { prompts: parsed.map((p) => p.prompt), networks: parsed[0]?.networks ?? new Map() };
}

/** The multipliers of one `<lora:NAME:TE[:UNET[:DYN]]>` tag, named `te=`/`unet=`/`dyn=` overriding. */
export interface LoraMultipliers {
  name: string;
  te: number;
  unet: number;
  dyn: number | null;
}

function loraNumber(value: string, what: string, tag: ExtraNetworkParams, integer: boolean): number {
  const number = integer ? (/^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : undefined) : pyFloat(value);
  if (number === undefined) {
    throw new InvalidParamsError('prompt', `<lora:${tag.items.join(':')}>: ${what} '${value}' is not ${integer ? 'an integer' : 'a number'}`);
  }
  return number;
}

/**
 * Reads a lora/lyco tag as the builtin Lora extension does: TE multiplier defaults to 1, UNet to TE, dyn dim
 * to none. A non-numeric multiplier fails the job in A1111; here it is an InvalidParamsError('prompt').
 */
export function loraMultipliers(tag: ExtraNetworkParams): LoraMultipliers {
  const { positional, named } = tag;
  // positional values are read (and validated) first, then the named ones override, as in A1111
  let te = positional.length > 1 ? loraNumber(positional[1], 'te multiplier', tag, false) : 1.0;
  if ('te' in named) te = loraNumber(named.te, 'te multiplier', tag, false);
  let unet = positional.length > 2 ? loraNumber(positional[2], 'unet multiplier', tag, false) : te;
  if ('unet' in named) unet = loraNumber(named.unet, 'unet multiplier', tag, false);
  let dyn = positional.length > 3 ? loraNumber(positional[3], 'dyn dim', tag, true) : null;
  if ('dyn' in named) dyn = loraNumber(named.dyn, 'dyn dim', tag, true);
  return { name: positional[0] ?? '', te, unet, dyn };
}
