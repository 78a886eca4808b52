/**
 * Issue 13 point 1: 1,000 schema-driven fuzz cases from our own /openapi.json against the fake generator (seeded;
 * FUZZ_SEED=n to replay another run, FUZZ_RUNS=n for more), and a short run of the generation routes on the real
 * tiny engine. Never a 5xx (but 501, and 503 with Retry-After), no hang, every answer in its documented shape,
 * and the server still answering /health. `npm run fuzz` runs ≥ 10,000 (scripts/fuzz.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FUZZ_BODY_LIMIT, FUZZ_LIMITS, formatReport, PLAUSIBLE_FIELDS, runFuzz, TINY_PNG } from './helpers/fuzz.ts';
import { startTestServer } from './helpers/http.ts';
import { needFiles, startTinyEngineServer } from './helpers/tiny-engine.ts';

const seed = Number(process.env.FUZZ_SEED ?? 13013);
const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

test(`fuzz: ${numRuns} cases from /openapi.json against the fake generator (seed ${seed})`, async () => {
  const server = await startTestServer({ limits: FUZZ_LIMITS, bodyLimit: FUZZ_BODY_LIMIT });
  const report = await runFuzz({ base: server.url, numRuns, seed, timeoutMs: 15_000, fieldOverrides: PLAUSIBLE_FIELDS });
  console.log(formatReport(report, 20));
  assert.equal(report.cases, numRuns);
  assert.ok(Object.keys(report.byOp).length >= 50, `${Object.keys(report.byOp).length} operations hit`);
  assert.ok((report.byStatus['200'] ?? 0) > numRuns / 10, 'valid-shaped requests do succeed');
  assert.ok((report.byStatus['422'] ?? 0) > numRuns / 10, 'malformed ones are refused');
  assert.deepEqual(
    report.failures.map((f) => `${f.status} ${f.why}: ${f.case.method} ${f.case.path} ${f.case.body?.slice(0, 200) ?? ''}`),
    [],
  );
  assert.equal(report.healthFailures, 0);
});

const skip = needFiles();
test('fuzz: 60 cases on the generation routes with the real tiny engine', { skip }, async () => {
  const server = await startTinyEngineServer('fuzz', { limits: { ...FUZZ_LIMITS, maxWidth: 64, maxHeight: 64, maxPixels: 64 * 64, maxSteps: 2, maxBatch: 2 } });
  try {
    const generation = new Set(['/sdapi/v1/txt2img', '/sdapi/v1/img2img', '/sdapi/v2/jobs', '/v1/images/generations']);
    // Valid-shaped requests the tiny model makes in a second (the limits refuse larger ones in any case).
    const fieldOverrides = {
      width: fc.constantFrom(32, 64),
      height: fc.constantFrom(32, 64),
      steps: fc.constantFrom(1, 2),
      batch_size: fc.constantFrom(1, 2),
      n_iter: fc.constant(1),
      size: fc.constantFrom('64x64', '32x64'),
      n: fc.constant(1),
      enable_hr: fc.constant(false),
      // Names the server must know (anything else is a correct 422 that would hide the engine from the fuzzer).
      sampler_name: fc.constantFrom('Euler a', 'Euler', 'DPM++ 2M', 'DDIM', null),
      scheduler: fc.constantFrom('Automatic', 'Karras', 'Uniform', null),
      script_name: fc.constant(null),
      scripts: fc.constant(undefined),
      firstpass_image: fc.constant(null),
      restore_faces: fc.constant(false),
      seed_resize_from_w: fc.constant(-1),
      seed_resize_from_h: fc.constant(-1),
      subseed_strength: fc.constantFrom(0, 0.5),
      response_format: fc.constantFrom('b64_json', 'url'),
      preview: fc.constantFrom(false, 1),
      script_args: fc.constant([]),
      alwayson_scripts: fc.constant({}),
      override_settings: fc.constant({}),
      styles: fc.constant([]),
      infotext: fc.constant(null),
      refiner_checkpoint: fc.constant(null),
      hr_checkpoint_name: fc.constant(null),
      hr_sampler_name: fc.constant(null),
      hr_scheduler: fc.constant(null),
      force_task_id: fc.constant(null),
      init_images: fc.constant([TINY_PNG]),
      mask: fc.constantFrom(null, TINY_PNG),
      model: fc.constant(undefined),
      type: fc.constantFrom('txt2img', 'img2img'),
      webhook: fc.constant(null),
      id: fc.constant(null),
      params: fc.record({
        prompt: fc.string({ maxLength: 30 }),
        width: fc.constantFrom(32, 64),
        height: fc.constant(64),
        steps: fc.constantFrom(1, 2),
        init_images: fc.constant([TINY_PNG]),
      }),
    };
    const only = (_m: string, p: string) => generation.has(p);
    const report = await runFuzz({ base: server.base, numRuns: 60, seed, timeoutMs: 120_000, only, fieldOverrides });
    console.log(formatReport(report, 20));
    assert.deepEqual(
      report.failures.map((f) => `${f.status} ${f.why}: ${f.case.method} ${f.case.path} ${f.case.body?.slice(0, 200) ?? ''}`),
      [],
    );
    assert.equal(report.healthFailures, 0);
  } finally {
    await server.close();
  }
});
