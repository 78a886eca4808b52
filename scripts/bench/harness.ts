/**
 * The bench's shared parts: a case is a function that times some work in a fresh child process (so each case's
 * peak RSS and cold/warm start are its own) and reports seconds per run plus the FLOPs of one run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeRandomCheckpoint } from '@sdapi/engine';
import type { ModelConfig } from '../../packages/engine/src/checkpoint/config.ts';
import { countFlops } from '../../packages/engine/src/onnx/flops.ts';
import type { Graph } from '../../packages/engine/src/onnx/graph.ts';
import { Tensor } from '../../packages/engine/src/tensor.ts';

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

/**
 * A full-size checkpoint with seeded random weights (F16) at `dir/file`, written once and cached: random weights
 * cost what real ones cost (the arithmetic and memory traffic do not depend on the values).
 */
export function randomCheckpoint(dir: string, file: string, config: ModelConfig, label: string): string {
  const path = join(dir, file);
  if (!existsSync(path)) {
    console.log(`writing ${path} (${label}, random weights, F16)…`);
    writeRandomCheckpoint(path, config, 1, { dtype: 'F16' });
  }
  return path;
}

/** Deterministic values in [-1, 1) (the bench needs realistic magnitudes, not a particular draw). */
export function filled(shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) % 1;
  return new Tensor(shape, data);
}

/** Contraction GFLOP of one run of `graph` with its symbolic dimensions bound (onnx/flops.ts). */
export const gflopOf = (graph: Graph, bindings: Record<string, number>): number => countFlops(graph, bindings).total / 1e9;
