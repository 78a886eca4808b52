/**
 * The SDXL bench cases (scripts/bench/sdxl.ts) on a tiny random SDXL config at 64²: the full-size cases are only
 * run on a quiet machine, so their code path (checkpoint writing, sessions cold/warm, UNet step with the vector
 * conditioning, whole txt2img, FLOP counts) is exercised here at toy scale.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SDXL_CASES, sdxlCases } from '../../../scripts/bench/sdxl.ts';
import { TINY_SDXL } from './helpers/tiny-configs.ts';

test('the SDXL bench cases run only when named', () => {
  assert.deepEqual(
    SDXL_CASES.map((c) => [c.name, c.byDefault, c.quick]),
    [
      ['sdxl-sessions', false, false],
      ['sdxl-unet-1024-cfg', false, false],
      ['sdxl-txt2img-1024-4', false, false],
    ],
  );
});

test('the SDXL bench cases run on a tiny SDXL config (sessions, UNet step with y, whole txt2img)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdapi-bench-sdxl-'));
  try {
    const cases = sdxlCases({ tag: 'tiny-sdxl', config: TINY_SDXL, size: 64, steps: 2, file: 'tiny-sdxl.safetensors' });
    const outputs = [];
    for (const c of cases) outputs.push(await c.run({ dir, quick: true, runs: 1 }));
    const [sessions, unet, txt2img] = outputs;
    console.log(JSON.stringify(outputs.map((o) => ({ seconds: o.seconds, gflop: o.gflop, notes: o.notes }))));
    assert.equal(sessions.seconds.length, 1);
    assert.match(sessions.notes?.[0] ?? '', /^cold \(no ORT cache\): [\d.]+ s; warm/);
    assert.equal(unet.seconds.length, 1);
    assert.ok((unet.gflop ?? 0) > 0);
    assert.ok((txt2img.gflop ?? 0) > 2 * (unet.gflop ?? 0), 'two UNet steps plus the text encoders and the VAE');
    assert.deepEqual(txt2img.notes, ['image 64×64']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
