/**
 * `npm run fuzz`: the schema-driven fuzz run of issue 13 point 1 at full size (default 10,000 cases) against a
 * server on the fake generator, with the same limits as the test (packages/server/test/fuzz.test.ts runs 1,000).
 * Prints the seed, progress, the counts per status, kind and operation, and every failure; exits 1 on any.
 *
 *   npm run fuzz                          # 10,000 cases, a random seed (printed: replay it with --seed)
 *   npm run fuzz -- --runs 50000 --seed 42
 *   npm run fuzz -- --auth                # the same with --api-auth on (every answer then carries credentials)
 *   npm run fuzz -- --concurrency 8       # 8 requests in flight (races; failures then depend on timing too)
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../packages/server/src/app.ts';
import { FakeGenerator } from '../packages/server/test/helpers/fake-generator.ts';
import { FUZZ_BODY_LIMIT, FUZZ_LIMITS, type FuzzReport, formatReport, PLAUSIBLE_FIELDS, runFuzz } from '../packages/server/test/helpers/fuzz.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seed: { type: 'string' },
    auth: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '15000' },
    concurrency: { type: 'string', default: '1' },
  },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const concurrency = Number(values.concurrency);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed) || !Number.isSafeInteger(concurrency) || concurrency < 1)
  throw new Error('--runs, --seed and --concurrency take integers (--runs and --concurrency ≥ 1)');

// The limits the test uses: valid-shaped requests stay small on the fake generator.
const app = await buildApp({
  generator: new FakeGenerator(),
  limits: FUZZ_LIMITS,
  bodyLimit: FUZZ_BODY_LIMIT,
  ...(values.auth ? { apiAuth: 'fuzz:fuzz' } : {}),
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const headers: Record<string, string> = values.auth ? { authorization: `Basic ${Buffer.from('fuzz:fuzz').toString('base64')}` } : {};
console.log(`fuzz: ${runs} cases, seed ${seed}, ${concurrency} in flight (replay: npm run fuzz -- --runs ${runs} --seed ${seed})`);
const progress = (done: number, r: FuzzReport) => {
  if (done % 1000 === 0) console.log(`  ${done}/${runs}: ${r.failures.length} failures`);
};
const report = await runFuzz({
  base,
  numRuns: runs,
  seed,
  headers,
  timeoutMs: Number(values['timeout-ms']),
  concurrency,
  onProgress: progress,
  fieldOverrides: PLAUSIBLE_FIELDS,
});
await app.close();
console.log(formatReport(report, 50));
console.log('  by operation:');
for (const [op, n] of Object.entries(report.byOp).sort((a, b) => b[1] - a[1])) console.log(`    ${String(n).padStart(6)}  ${op}`);
process.exit(report.failures.length === 0 && report.healthFailures === 0 ? 0 : 1);
