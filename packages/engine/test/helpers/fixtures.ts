/**
 * Locates `../shared/fixtures` (the oracle tensors made from the genuine PyTorch code) and gives tests a
 * uniform way to skip, with a printed reason, when a fresh clone has no `../shared` beside it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SafetensorsFile } from '../../src/checkpoint/safetensors.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** `$SDAPI_SHARED` or `<repo>/../shared`. */
export const SHARED_DIR = process.env.SDAPI_SHARED ?? resolve(repoRoot, '../shared');
export const FIXTURES_DIR = join(SHARED_DIR, 'fixtures');
export const SPEC_DIR = join(SHARED_DIR, 'spec');

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts);
}

/**
 * `false` when the fixture exists, otherwise the skip reason string that node:test prints
 * (use as `test(name, { skip: needFixture('tiny-sd15') }, ...)`).
 */
export function needFixture(...parts: string[]): false | string {
  const path = fixturePath(...parts);
  return existsSync(path) ? false : `fixture ${path} is absent (../shared is not beside this clone)`;
}

/** Opens a fixture safetensors file (tests only; callers close it or let the process end). */
export function openFixture(...parts: string[]): SafetensorsFile {
  return SafetensorsFile.open(fixturePath(...parts));
}
