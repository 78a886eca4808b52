/**
 * `sdapi generate --lora NAME[:TE[:UNET]]`: each flag appends the A1111 tag `<lora:NAME:TE[:UNET]>` to the
 * prompt (so it works in-process and against any A1111 server with --remote); in-process, NAME is looked up in
 * `--lora-dir`, `<data-dir>/models/Lora` and `<data-dir>/models/LyCORIS`.
 */
import { join, resolve } from 'node:path';
import { LoraCatalog } from '@sdapi/engine';
import { CliError } from '../output.ts';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** `NAME[:TE[:UNET]]` → `<lora:NAME:TE[:UNET]>` (TE defaults to 1, UNET to TE, as in A1111). */
export function loraTag(spec: string): string {
  const [name, ...multipliers] = spec.split(':');
  if (!name || /[<>]/.test(name) || multipliers.length > 2 || multipliers.some((m) => !NUMBER.test(m))) {
    throw new CliError(`--lora must be NAME[:TE[:UNET]] with numeric multipliers, got '${spec}'`, undefined, 'e.g. --lora myStyle:0.8');
  }
  return `<lora:${[name, ...multipliers].join(':')}>`;
}

/** The prompt with one tag per --lora flag appended (A1111's UI inserts them the same way). */
export function withLoraTags(prompt: string, specs: readonly string[] | undefined): string {
  const tags = (specs ?? []).map(loraTag);
  return tags.length === 0 ? prompt : [prompt, ...tags].filter((s) => s !== '').join(' ');
}

/** The LoRA files an in-process job may name. */
export function loraCatalog(dataDir: string, loraDir: string | undefined): LoraCatalog {
  const dirs = [loraDir, join(dataDir, 'models', 'Lora'), join(dataDir, 'models', 'LyCORIS')].filter((d): d is string => Boolean(d));
  return new LoraCatalog({ dirs: dirs.map((d) => resolve(d)) });
}
