/**
 * The bench's shared parts: a case is a function that times some work in a fresh child process (so each case's
 * peak RSS and cold/warm start are its own) and reports seconds per run plus the FLOPs of one run.
 */

export interface CaseContext {
  /** Folder with the cached random checkpoints and ORT caches (bench-results/ by default). */
  dir: string;
  quick: boolean;
  /** Timed runs after one untimed warm-up run (cases that cannot repeat, such as cold starts, run once). */
  runs: number;
}

export interface CaseOutput {
  seconds: number[];
  /** Contraction GFLOP of one run (onnx/flops.ts), or null where it does not apply. */
  gflop: number | null;
  /** For the GEMM peak case: the GFLOP/s it measured (the roofline of the other cases). */
  peakGflops?: number;
  /** Anything else worth printing, in words (e.g. an int8 mode's error against fp32). */
  notes?: string[];
}

export interface BenchCase {
  name: string;
  description: string;
  /** Part of `--quick` (the ≤ 3-minute subset). */
  quick: boolean;
  /** Part of a plain `npm run bench` (big optional cases such as SDXL run only when named). */
  byDefault: boolean;
  run(ctx: CaseContext): Promise<CaseOutput>;
}

export interface CaseResult {
  name: string;
  seconds_median: number;
  seconds_min: number;
  runs: number;
  gflop: number | null;
  peak_gflops: number | null;
  /** seconds_median ÷ (gflop ÷ peak_gflops): 1.0 is the GEMM roofline. */
  roofline_ratio: number | null;
  peak_rss_mb: number;
  notes: string[];
}

/** Runs `fn` `1 + runs` times (the first is a warm-up) and returns the timed seconds. */
export async function timeRuns(runs: number, fn: () => Promise<unknown>, { warmUp = true } = {}): Promise<number[]> {
  if (warmUp) await fn();
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Peak resident set size of this process so far, in MiB (the kernel's high-water mark, not a sample). */
export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
