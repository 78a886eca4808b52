/** Locates `../shared/spec` and lets tests skip with a printed reason when it is absent. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const SPEC_DIR = join(process.env.SDAPI_SHARED ?? resolve(repoRoot, '../shared'), 'spec');

/** `false` when the vector exists, else the skip reason. */
export function needVector(name: string): false | string {
  const path = join(SPEC_DIR, 'vectors', name);
  return existsSync(path) ? false : `vector ${path} is absent (../shared is not beside this clone)`;
}

export function readVector<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(SPEC_DIR, 'vectors', name), 'utf8')) as T;
}
