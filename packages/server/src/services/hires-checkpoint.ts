/**
 * `hr_checkpoint_name` → the engine's hires checkpoint (spec §3.1.3, §9.4): looked up fuzzily as A1111 does
 * (exact alias, else the shortest title containing the text, else without a trailing `[hash]`), hashed like a loaded
 * model for its infotext title `Hires checkpoint: <name> [<shorthash>]`. Where A1111 answers a 500 (`Could not find
 * checkpoint with name X`) this is a 422 naming the field, the value and the checkpoints there are.
 */
import type { Txt2ImgParams } from '@sdapi/engine';
import { checkpointTitle } from './checkpoints.ts';
import { ApiError } from './errors.ts';
import type { Generator } from './generator.ts';
import { findCheckpointFuzzy, shortTitle } from './refiner.ts';

/** `params` with `hires.checkpoint` filled in for `name` (null/absent name or no hires: unchanged). */
export async function withHiresCheckpoint(generator: Generator, params: Txt2ImgParams, name: string | null | undefined): Promise<Txt2ImgParams> {
  if (!name || !params.hires) return params;
  const files = await generator.listCheckpoints();
  const file = findCheckpointFuzzy(files, name);
  if (!file) {
    const titles = files.map(checkpointTitle);
    throw new ApiError(
      'MODEL_NOT_FOUND',
      `hr_checkpoint_name: Could not find checkpoint with name ${JSON.stringify(name)}; checkpoints: ${titles.length > 0 ? titles.join(', ') : '(none)'}`,
    );
  }
  if (file.error) throw new ApiError('MODEL_NOT_FOUND', `hr_checkpoint_name ${JSON.stringify(name)}: ${file.name} cannot be loaded: ${file.error}`);
  const hashed = (await generator.hashCheckpoint?.(file)) ?? file;
  return { ...params, hires: { ...params.hires, checkpoint: { path: file.filename, title: shortTitle(hashed) } } };
}
