/**
 * `refiner_checkpoint` / `refiner_switch_at` (spec §3.1.1 fields 29–30) → the engine's refiner: the name is looked
 * up as A1111 does (§9.4 fuzzy lookup: exact alias, else the shortest title containing it, else without a trailing
 * `[hash]`); null, '' and 'None' mean no refiner. Where A1111 answers a 500 (`Could not find checkpoint with name X`)
 * this is a 422 naming the field, the value and the checkpoints there are. The refiner is hashed like a loaded
 * checkpoint (A1111 hashes it when it loads it at the switch) so infotext `Refiner` is its `name [shorthash]`.
 */
import type { Txt2ImgParams } from '@sdapi/engine';
import type { Txt2ImgRequest } from '@sdapi/protocol';
import { checkpointTitle, findCheckpoint, nameForExtra, shorthash } from './checkpoints.ts';
import { ApiError } from './errors.ts';
import type { CheckpointFile, Generator } from './generator.ts';

/** The request's refiner fields, checked but not yet looked up (the lookup needs the checkpoint list). */
export interface RefinerRequest {
  checkpoint: string;
  switchAt: number | null;
}

const NONE = new Set(['', 'None', 'none']);

/** A refiner_checkpoint value that means no refiner ('', 'None', 'none'). */
export const isNoRefiner = (name: string) => NONE.has(name);

/** null when the request names no refiner; a 422 for a switch point outside 0..1. */
export function refinerRequest(body: Pick<Txt2ImgRequest, 'refiner_checkpoint' | 'refiner_switch_at'>): RefinerRequest | null {
  const name = body.refiner_checkpoint;
  if (typeof name !== 'string' || NONE.has(name)) return null;
  const switchAt = body.refiner_switch_at ?? null;
  if (switchAt !== null && !(switchAt >= 0 && switchAt <= 1)) {
    throw new ApiError('INVALID_PARAMS', `refiner_switch_at must be a fraction of the steps from 0 to 1 (or null), got ${JSON.stringify(switchAt)}`);
  }
  return { checkpoint: name, switchAt };
}

/** §9.4: exact alias, else the shortest title containing the text, else the same without a trailing `[hash]`. */
export function findCheckpointFuzzy(files: readonly CheckpointFile[], search: string): CheckpointFile | undefined {
  if (search === '') return undefined;
  const exact = findCheckpoint(files, search);
  if (exact) return exact;
  const containing = (s: string) =>
    files.filter((f) => checkpointTitle(f).includes(s)).sort((a, b) => checkpointTitle(a).length - checkpointTitle(b).length)[0];
  return containing(search) ?? containing(search.replace(/\s*\[[^\]]*\]\s*$/, ''));
}

/** A1111 `short_title`: `name_for_extra [shorthash]`, or the bare name before the file is hashed. */
export function shortTitle(file: CheckpointFile): string {
  const hash = shorthash(file);
  return hash ? `${nameForExtra(file)} [${hash}]` : nameForExtra(file);
}

/** The refiner's file and infotext title for the engine; a 422 when the name matches no usable checkpoint. */
export async function resolveRefiner(generator: Generator, request: RefinerRequest | null | undefined): Promise<Txt2ImgParams['refiner']> {
  if (!request) return null;
  const files = await generator.listCheckpoints();
  const file = findCheckpointFuzzy(files, request.checkpoint);
  if (!file) {
    const titles = files.map(checkpointTitle);
    throw new ApiError(
      'MODEL_NOT_FOUND',
      `refiner_checkpoint: Could not find checkpoint with name ${JSON.stringify(request.checkpoint)}; checkpoints: ${titles.length > 0 ? titles.join(', ') : '(none)'}`,
    );
  }
  if (file.error)
    throw new ApiError('MODEL_NOT_FOUND', `refiner_checkpoint ${JSON.stringify(request.checkpoint)}: ${file.name} cannot be loaded: ${file.error}`);
  const hashed = (await generator.hashCheckpoint?.(file)) ?? file;
  return { path: file.filename, title: shortTitle(hashed), switchAt: request.switchAt };
}
