/**
 * `npm run bench`: speed and memory on this machine, each case in its own child process (so its peak RSS and its
 * cold or warm start are its own). Times are also given against the ORT GEMM peak measured in the same run
 * (`roofline_ratio` = seconds ÷ (GFLOP ÷ peak GFLOP/s)), since the machines are noisy and ratios travel better.
 *
 *   npm run bench                            # every default case (about 10 minutes on 2 cores)
 *   npm run bench -- --quick                 # the ≤ 3-minute subset
 *   npm run bench -- --case unet-sd15-512-cfg --case ort-matmul-peak
 *   npm run bench -- --json results.json     # { machine, cases: [...] }
 *   npm run bench -- --readme                # also rewrite the README's results table
 *   npm run bench -- --list
 *   npm run bench -- --case sdxl-sessions --case sdxl-unet-1024-cfg --case sdxl-txt2img-1024-4
 *                                            # full-size SDXL (≈ 6.9 GB file, ≥ 24 GB RAM): only when named
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLUSTER_CASE } from './bench/cluster.ts';
import { ESRGAN_CASE } from './bench/esrgan.ts';
import type { BenchCase, CaseOutput, CaseResult } from './bench/harness.ts';
import { median, peakRssMb } from './bench/harness.ts';
import { formatTable, updateReadme } from './bench/report.ts';
import { SD15_CASES } from './bench/sd15.ts';
import { SDXL_CASES } from './bench/sdxl.ts';

const CASES: BenchCase[] = [...SD15_CASES, ESRGAN_CASE, ...SDXL_CASES, CLUSTER_CASE]; // SDXL cases run only when named (--case sdxl-…)

const { values } = parseArgs({
  options: {
    case: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    readme: { type: 'boolean', default: false },
    runs: { type: 'string' },
    dir: { type: 'string', default: 'bench-results' },
    list: { type: 'boolean', default: false },
    child: { type: 'string' },
    'result-file': { type: 'string' },
  },
});
const dir = values.dir as string;
const quick = values.quick as boolean;
const runs = values.runs ? Number(values.runs) : quick ? 1 : 3;
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs takes an integer ≥ 1, not '${values.runs}'`);

if (values.child) {
  // Child: run one case and write its output where the parent asked.
  const benchCase = CASES.find((c) => c.name === values.child);
  if (!benchCase) throw new Error(`unknown case ${values.child}`);
  const output = await benchCase.run({ dir, quick, runs });
  writeFileSync(values['result-file'] as string, JSON.stringify({ ...output, peakRssMb: peakRssMb() }));
  process.exit(0);
}

if (values.list) {
  for (const c of CASES) console.log(`${c.name.padEnd(24)} ${c.description}${c.quick ? ' [quick]' : ''}${c.byDefault ? '' : ' [only when named]'}`);
  process.exit(0);
}

const selected = selectCases(values.case, quick);
mkdirSync(dir, { recursive: true });
const results: CaseResult[] = [];
let peakGflops: number | null = null;
const scratch = mkdtempSync(join(tmpdir(), 'sdapi-bench-'));
for (const benchCase of selected) {
  console.log(`\n▶ ${benchCase.name}: ${benchCase.description}`);
  const resultFile = join(scratch, `${benchCase.name}.json`);
  const args = [
    '--import',
    'tsx',
    'scripts/bench.ts',
    '--child',
    benchCase.name,
    '--result-file',
    resultFile,
    '--dir',
    dir,
    '--runs',
    String(runs),
    ...(quick ? ['--quick'] : []),
  ];
  const child = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (child.status !== 0) {
    console.log(`  ✗ ${benchCase.name} failed (exit ${child.status ?? child.signal})`);
    continue;
  }
  const output = JSON.parse(readFileSync(resultFile, 'utf8')) as CaseOutput & { peakRssMb: number };
  if (output.peakGflops !== undefined) peakGflops = output.peakGflops;
  results.push(toResult(benchCase.name, output, peakGflops));
  console.log(formatTable(results.slice(-1)).split('\n')[2]); // the case's row (notes follow in the summary)
}

console.log(`\n${formatTable(results)}`);
const derived = derivedRatios(results);
for (const line of derived) console.log(line);
const machine = {
  cpus: cpus().length,
  cpu_model: cpus()[0]?.model ?? 'unknown',
  memory_gb: +(totalmem() / 1024 ** 3).toFixed(1),
  node: process.version,
  quick,
};
if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine, cases: results, derived }, null, 2)}\n`);
if (values.readme) updateReadme('README.md', machine, results, derived);

function selectCases(names: string[] | undefined, quickOnly: boolean): BenchCase[] {
  if (!names || names.length === 0) return CASES.filter((c) => (quickOnly ? c.quick : c.byDefault));
  return names
    .flatMap((n) => n.split(','))
    .map((name) => {
      const found = CASES.find((c) => c.name === name);
      if (!found) throw new Error(`unknown case '${name}'; cases: ${CASES.map((c) => c.name).join(', ')}`);
      return found;
    });
}

function toResult(name: string, output: CaseOutput & { peakRssMb: number }, peak: number | null): CaseResult {
  const secondsMedian = median(output.seconds);
  const gflopsPeak = output.peakGflops ?? peak;
  return {
    name,
    seconds_median: secondsMedian,
    seconds_min: Math.min(...output.seconds),
    runs: output.seconds.length,
    gflop: output.gflop,
    peak_gflops: gflopsPeak,
    roofline_ratio: output.gflop !== null && gflopsPeak ? secondsMedian / (output.gflop / gflopsPeak) : null,
    peak_rss_mb: Math.round(output.peakRssMb),
    notes: output.notes ?? [],
  };
}

/** The targets as ratios between cases of this run. */
function derivedRatios(all: CaseResult[]): string[] {
  const of = (name: string) => all.find((r) => r.name === name)?.seconds_median;
  const lines: string[] = [];
  const step = of('unet-sd15-512-cfg');
  const whole = of('txt2img-sd15-512-20');
  if (step && whole) lines.push(`txt2img 512² 20 steps = ${(whole / step).toFixed(1)} UNet steps (target ≤ 25)`);
  return lines;
}
