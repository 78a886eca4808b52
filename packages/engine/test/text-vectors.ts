/**
 * Loads `../shared/spec/vectors/*.json` for the prompt-language oracle tests, with the skip reason that
 * node:test prints when a fresh clone has no `../shared` beside it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPEC_DIR } from './helpers/fixtures.ts';

export function vectorPath(name: string): string {
  return join(SPEC_DIR, 'vectors', name);
}

/** `false` when the vector file exists, otherwise the skip reason. */
export function needVectors(name: string): false | string {
  const path = vectorPath(name);
  return existsSync(path) ? false : `spec vector ${path} is absent (../shared is not beside this clone)`;
}

/** The parsed vector file, or `fallback` when it is absent (the tests using it are skipped then). */
export function readVectors<T>(name: string, fallback: T): T {
  const path = vectorPath(name);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback;
}

/** Short printable label for a test name. */
export function label(text: string, max = 60): string {
  const json = JSON.stringify(text);
  return json.length > max ? `${json.slice(0, max - 1)}…"` : json;
}
