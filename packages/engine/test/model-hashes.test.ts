/**
 * Every case of spec/vectors/model_hashes.json (A1111 `sd_models.model_hash`, `hashes.calculate_sha256`,
 * `hashes.addnet_hash_safetensors`): synthetic files around the 1 MiB legacy-hash boundary, a tiny safetensors
 * file for the addnet hash, and a missing file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addnetHash, checkpointShortHash, legacyModelHash, networkShortHash, sha256File } from '../src/checkpoint/hashes.ts';
import { SPEC_DIR } from './helpers/fixtures.ts';

const vectorPath = join(SPEC_DIR, 'vectors', 'model_hashes.json');
const skip = existsSync(vectorPath) ? false : `${vectorPath} is absent (../shared is not beside this clone)`;

interface Case {
  file: string | { size: number; content?: string; content_base64?: string };
  expected: Record<string, string>;
}

function materialise(dir: string, c: Case, i: number): string {
  const path = join(dir, `case-${i}.bin`);
  if (typeof c.file === 'string') return path; // "missing file": never created
  if (c.file.content_base64 !== undefined) {
    writeFileSync(path, Buffer.from(c.file.content_base64, 'base64'));
  } else {
    assert.equal(c.file.content, 'byte[i] = (i*7 + 3) mod 256', 'only the documented generator is implemented');
    writeFileSync(
      path,
      Uint8Array.from({ length: c.file.size }, (_, j) => (j * 7 + 3) % 256),
    );
  }
  return path;
}

test('model_hashes.json: every case', { skip }, async () => {
  const { cases } = JSON.parse(readFileSync(vectorPath, 'utf8')) as { cases: Case[] };
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-hashes-'));
  const seen = new Set<string>();
  for (const [i, c] of cases.entries()) {
    const path = materialise(dir, c, i);
    const label = `case ${i} (${typeof c.file === 'string' ? c.file : `${c.file.size} bytes`})`;
    if (typeof c.file !== 'string') assert.equal(readFileSync(path).length, c.file.size, label);
    for (const [key, want] of Object.entries(c.expected)) {
      seen.add(key);
      switch (key) {
        case 'legacy_model_hash':
          assert.equal(legacyModelHash(path), want, `${label} ${key}`);
          break;
        case 'sha256':
          assert.equal(await sha256File(path), want, `${label} ${key}`);
          break;
        case 'shorthash_checkpoint':
          assert.equal(checkpointShortHash(await sha256File(path)), want, `${label} ${key}`);
          break;
        case 'shorthash_lora_or_ti':
          assert.equal(networkShortHash(await sha256File(path)), want, `${label} ${key}`);
          break;
        case 'addnet_hash':
          assert.equal(await addnetHash(path), want, `${label} ${key}`);
          break;
        case 'addnet_shorthash_12':
          assert.equal(networkShortHash(await addnetHash(path)), want, `${label} ${key}`);
          break;
        default:
          assert.fail(`${label}: unknown expectation '${key}' — extend this test`);
      }
    }
  }
  console.log(`# model_hashes.json: ${cases.length} cases, kinds ${[...seen].join(', ')}`);
  assert.equal(cases.length, 12);
});
