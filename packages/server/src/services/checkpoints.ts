/**
 * A1111's checkpoint naming and exact-alias lookup (spec §9.1, §9.3), over the generator's CheckpointFile records.
 */
import type { SDModelItem } from '@sdapi/protocol';
import type { CheckpointFile } from './generator.ts';

/** `sub/dir/foo.safetensors` → `sub_dir_foo` (separators → `_`, extension dropped). */
export function modelName(file: CheckpointFile): string {
  return file.name.replace(/[/\\]/g, '_').replace(/\.[^./\\]*$/, '');
}

/** Base name without extension (`foo`): infotext `Model`, info `sd_model_name`. */
export function nameForExtra(file: CheckpointFile): string {
  const base = file.name.split(/[/\\]/).pop() ?? file.name;
  return base.replace(/\.[^.]*$/, '');
}

export function shorthash(file: CheckpointFile): string | null {
  return file.sha256 ? file.sha256.slice(0, 10) : null;
}

/** `"<name> [<shorthash>]"` once hashed, else `"<name>"`. */
export function checkpointTitle(file: CheckpointFile): string {
  const hash = shorthash(file);
  return hash ? `${file.name} [${hash}]` : file.name;
}

export function toSdModelItem(file: CheckpointFile): SDModelItem {
  return {
    title: checkpointTitle(file),
    model_name: modelName(file),
    hash: shorthash(file),
    sha256: file.sha256,
    filename: file.filename,
    config: file.config ?? null,
    ...(file.error ? { error: file.error } : {}),
  };
}

/** Every exact alias of a checkpoint (§9.3): names, titles, and once hashed the short and full hashes. */
export function checkpointAliases(file: CheckpointFile): string[] {
  const aliases = [modelName(file), checkpointTitle(file), file.name, nameForExtra(file)];
  if (file.legacyHash) aliases.push(file.legacyHash, `${file.name} [${file.legacyHash}]`);
  const hash = shorthash(file);
  if (hash && file.sha256) aliases.push(hash, file.sha256, `${file.name} [${hash}]`, `${nameForExtra(file)} [${hash}]`);
  return aliases;
}

/** The checkpoint for an exact, case-sensitive alias; the last registered file wins a shared alias. */
export function findCheckpoint(files: readonly CheckpointFile[], alias: string): CheckpointFile | undefined {
  let found: CheckpointFile | undefined;
  for (const file of files) if (checkpointAliases(file).includes(alias)) found = file;
  return found;
}
