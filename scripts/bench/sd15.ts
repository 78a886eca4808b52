/**
 * The SD1.5 cases of `npm run bench`, on a full-size SD1.5 checkpoint with seeded random weights that the project
 * writes itself (F16, cached under the bench folder). Random weights cost what real ones cost: the arithmetic
 * and memory traffic do not depend on the values.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTxt2ImgParams, SD15_CONFIG, StableDiffusion } from '@sdapi/engine';
import { buildTextEncoderGraph } from '../../packages/engine/src/models/clip-text.ts';
import { buildUNetGraph } from '../../packages/engine/src/models/unet-model.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../../packages/engine/src/models/vae.ts';
import { Graph } from '../../packages/engine/src/onnx/graph.ts';
import * as F from '../../packages/engine/src/onnx/ops.ts';
import { serializeModel } from '../../packages/engine/src/onnx/proto.ts';
import { LoadedModel } from '../../packages/engine/src/pipeline/model.ts';
import { OrtSession } from '../../packages/engine/src/runtime/ort.ts';
import { benchLora } from '../bench-lora.ts';
import { type BenchCase, type CaseContext, filled, gflopOf, median, randomCheckpoint, timeRuns } from './harness.ts';

const PROMPT_IDS = [49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407];

export const sd15Checkpoint = (dir: string): string => randomCheckpoint(dir, 'sd15-random-f16.safetensors', SD15_CONFIG, 'full-size SD1.5');

const openModel = (ctx: CaseContext, cache = 'onnx-cache') => LoadedModel.open(sd15Checkpoint(ctx.dir), { cacheDir: join(ctx.dir, cache) });

const unetGflop = (size: number) => gflopOf(buildUNetGraph(SD15_CONFIG.unet), { N: 2, H: size / 8, W: size / 8, L: 77 });

/** The GEMM peak of this machine through onnxruntime: one large float32 MatMul (the roofline of every case). */
const matmulPeak: BenchCase = {
  name: 'ort-matmul-peak',
  description: 'ORT float32 MatMul n×n×n (GEMM peak)',
  quick: true,
  byDefault: true,
  async run(ctx) {
    const n = ctx.quick ? 2048 : 4096;
    const graph = new Graph('matmul-peak');
    graph.output(F.matmul(graph.input('a', [n, n]), graph.input('b', [n, n])), 'y');
    const session = await OrtSession.create(serializeModel(graph, { weights: () => new Float32Array() }));
    const a = filled([n, n]);
    const b = filled([n, n]);
    const seconds = await timeRuns(Math.max(ctx.runs, 3), () => session.run({ a, b })); // the roofline: best of ≥ 3, cheap
    const gflop = gflopOf(graph, {});
    await session.release();
    return { seconds, gflop, peakGflops: gflop / Math.min(...seconds), notes: [`n = ${n}`] };
  },
};

function unetStep(size: number, quick: boolean): BenchCase {
  return {
    name: `unet-sd15-${size}-cfg`,
    description: `UNet step ${size}², CFG batch 2`,
    quick,
    byDefault: true,
    async run(ctx) {
      const model = openModel(ctx);
      const x = filled([2, 4, size / 8, size / 8]);
      const context = filled([2, 77, 768]);
      const seconds = await timeRuns(ctx.runs, () => model.unet(x, [500, 500], context));
      await model.release();
      return { seconds, gflop: unetGflop(size) };
    },
  };
}

/**
 * The opt-in int8 UNet (Linear layers and convolutions int8, onnx/quantize.ts) against the float32 one, both in this process with
 * alternating runs, on the same input: its time, the speed-up, and its error against float32.
 */
function unetInt8(size: number, quick: boolean): BenchCase {
  return {
    name: `unet-sd15-${size}-int8`,
    description: `UNet step ${size}², CFG batch 2, int8 Linear and conv weights vs float32`,
    quick,
    byDefault: true,
    async run(ctx) {
      const fp32 = openModel(ctx);
      const int8 = LoadedModel.open(sd15Checkpoint(ctx.dir), { cacheDir: join(ctx.dir, 'onnx-cache'), quantize: 'int8' });
      const x = filled([2, 4, size / 8, size / 8]);
      const context = filled([2, 77, 768]);
      const reference = await fp32.unet(x, [500, 500], context);
      const quantized = await int8.unet(x, [500, 500], context);
      const [maxDiff, meanDiff, maxRef] = compare(reference.data, quantized.data);
      const fp32Seconds: number[] = [];
      const int8Seconds: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        fp32Seconds.push(...(await timeRuns(1, () => fp32.unet(x, [500, 500], context), { warmUp: false })));
        int8Seconds.push(...(await timeRuns(1, () => int8.unet(x, [500, 500], context), { warmUp: false })));
      }
      await Promise.all([fp32.release(), int8.release()]);
      return {
        seconds: int8Seconds,
        gflop: unetGflop(size),
        notes: [
          `float32 in the same process: median ${median(fp32Seconds).toFixed(3)} s, min ${Math.min(...fp32Seconds).toFixed(3)} s; int8 is ${(median(fp32Seconds) / median(int8Seconds)).toFixed(2)}× faster (median), ${(Math.min(...fp32Seconds) / Math.min(...int8Seconds)).toFixed(2)}× (min)`,
          `int8 error against float32 (eps output): max ${maxDiff.toExponential(2)}, mean ${meanDiff.toExponential(2)}, max |float32| ${maxRef.toFixed(2)}`,
        ],
      };
    },
  };
}

function compare(a: Float32Array, b: Float32Array): [number, number, number] {
  let max = 0;
  let sum = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
    ref = Math.max(ref, Math.abs(a[i]));
  }
  return [max, sum / a.length, ref];
}

const textEncode: BenchCase = {
  name: 'text-sd15',
  description: 'CLIP text encoder, batch 2 × 77 tokens',
  quick: true,
  byDefault: true,
  async run(ctx) {
    const model = openModel(ctx);
    const ids = [...PROMPT_IDS, ...new Array(77 - PROMPT_IDS.length).fill(49407)];
    const seconds = await timeRuns(ctx.runs, () => model.encodeText(0, [ids, ids]));
    await model.release();
    return { seconds, gflop: gflopOf(buildTextEncoderGraph(SD15_CONFIG.text_encoders[0], { tokenFixes: true }), { N: 2 }) };
  },
};

function vaeCase(kind: 'decode' | 'encode', size: number, quick: boolean): BenchCase {
  return {
    name: `vae-${kind}-${size}`,
    description: `VAE ${kind} ${size}²`,
    quick,
    byDefault: true,
    async run(ctx) {
      const model = openModel(ctx);
      const input = kind === 'decode' ? filled([1, 4, size / 8, size / 8]) : filled([1, 3, size, size]);
      const seconds = await timeRuns(ctx.runs, () => (kind === 'decode' ? model.decode(input) : model.encodeImage(input)));
      await model.release();
      const gflop =
        kind === 'decode'
          ? gflopOf(buildVAEDecoderGraph(SD15_CONFIG.vae), { N: 1, h: size / 8, w: size / 8 })
          : gflopOf(buildVAEEncoderGraph(SD15_CONFIG.vae), { N: 1, H: size, W: size });
      return { seconds, gflop };
    },
  };
}

/** Session creation for CLIP + UNet + VAE decoder: cold (no ORT cache on disk) or warm (the cache from a cold run). */
function sessions(kind: 'cold' | 'warm'): BenchCase {
  return {
    name: `sessions-sd15-${kind}`,
    description: `session creation, ${kind} (text + UNet + VAE decoder)`,
    quick: false,
    byDefault: true,
    async run(ctx) {
      const cache = 'onnx-cache-sessions';
      if (kind === 'cold') rmSync(join(ctx.dir, cache), { recursive: true, force: true });
      else if (!existsSync(join(ctx.dir, cache)))
        await (async () => {
          const m = openModel(ctx, cache);
          await m.warmUp();
          await m.release();
        })();
      const model = openModel(ctx, cache);
      const seconds = await timeRuns(1, () => model.warmUp(), { warmUp: false });
      await model.release();
      return { seconds, gflop: null };
    },
  };
}

/**
 * A whole 512² txt2img (Euler a): text, `steps` UNet steps, VAE decode, `jobs` times on one warm model. With
 * `lowMemory` (the UNet released before the VAE decode) what matters is the peak RSS, which the steps do not change,
 * and the second job shows the UNet loaded again from the ONNX cache.
 */
function txt2imgCase(steps: number, { lowMemory = false, jobs = 1 } = {}): BenchCase {
  return {
    name: `txt2img-sd15-512-${steps}${lowMemory ? '-low-memory' : ''}`,
    description: `whole txt2img 512², ${steps} steps Euler a${lowMemory ? ', lowMemory (peak RSS)' : ''}`,
    quick: false,
    byDefault: true,
    async run(ctx) {
      const sd = StableDiffusion.open(sd15Checkpoint(ctx.dir), { cacheDir: join(ctx.dir, 'onnx-cache'), lowMemory });
      await sd.warmUp();
      const prompt = 'a photograph of an astronaut riding a horse';
      const params = defaultTxt2ImgParams({ prompt, seed: 1, steps, samplerName: 'Euler a', width: 512, height: 512 });
      const seconds = await timeRuns(jobs, () => sd.txt2img(params), { warmUp: false });
      await sd.release();
      const text = gflopOf(buildTextEncoderGraph(SD15_CONFIG.text_encoders[0], { tokenFixes: true }), { N: 2 });
      const vae = gflopOf(buildVAEDecoderGraph(SD15_CONFIG.vae), { N: 1, h: 64, w: 64 });
      const notes = jobs > 1 ? [`${jobs} jobs: ${seconds.map((x) => x.toFixed(1)).join(' s, ')} s${lowMemory ? ' (each after the first loads the UNet again)' : ''}`] : [];
      return { seconds, gflop: text + steps * unetGflop(512) + vae, notes };
    },
  };
}

/** A LoRA's cost (bench-lora.ts): first and repeated 1-step requests with a new one, against one UNet step. */
const lora: BenchCase = {
  name: 'lora-sd15',
  description: 'LoRA / LoCon first and repeated request',
  quick: false,
  byDefault: true,
  async run(ctx) {
    const ckpt = sd15Checkpoint(ctx.dir);
    const sd = StableDiffusion.open(ckpt, { cacheDir: join(ctx.dir, 'onnx-cache') });
    await sd.warmUp();
    const x = filled([2, 4, 64, 64]);
    const context = filled([2, 77, 768]);
    const step = median(await timeRuns(ctx.runs, () => sd.model.unet(x, [500, 500], context)));
    const notes = await benchLora(sd, ckpt, ctx.dir, step);
    await sd.release();
    return { seconds: [step], gflop: unetGflop(512), notes };
  },
};

export const SD15_CASES: BenchCase[] = [
  matmulPeak,
  textEncode,
  unetStep(512, false),
  unetStep(256, true),
  unetInt8(512, false),
  unetInt8(256, true),
  vaeCase('decode', 512, false),
  vaeCase('encode', 512, false),
  vaeCase('decode', 256, true),
  sessions('cold'),
  sessions('warm'),
  txt2imgCase(20),
  txt2imgCase(4, { lowMemory: true, jobs: 2 }),
  lora,
];
