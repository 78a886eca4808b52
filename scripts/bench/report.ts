/** The bench's table (console and README). */
import { readFileSync, writeFileSync } from 'node:fs';
import type { CaseResult } from './harness.ts';

const fixed = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));

export function formatTable(results: readonly CaseResult[]): string {
  const header = '| case | median s | min s | runs | GFLOP | peak GFLOP/s | × roofline | peak RSS MiB |';
  const rule = '|---|---:|---:|---:|---:|---:|---:|---:|';
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.seconds_median.toFixed(3)} | ${r.seconds_min.toFixed(3)} | ${r.runs} | ${fixed(r.gflop, 1)} | ${fixed(r.peak_gflops, 1)} | ${fixed(r.roofline_ratio, 2)} | ${r.peak_rss_mb} |`,
  );
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.name}: ${n}`));
  return [header, rule, ...rows, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/** Rewrites the README between the bench markers (left alone when they are missing). */
export function updateReadme(path: string, machine: Record<string, unknown>, results: readonly CaseResult[], derived: readonly string[]): void {
  const text = readFileSync(path, 'utf8');
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) {
    console.log(`${path} has no ${START} … ${END} markers; not updated`);
    return;
  }
  const when = new Date().toISOString().slice(0, 10);
  const body = [
    `Measured ${when} by \`npm run bench${machine.quick ? ' -- --quick' : ''}\` on ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gb} GB, Node ${machine.node}.`,
    '',
    formatTable(results),
    ...(derived.length ? ['', ...derived.map((d) => `- ${d}`)] : []),
  ].join('\n');
  writeFileSync(path, `${text.slice(0, from + START.length)}\n${body}\n${text.slice(to)}`);
}
