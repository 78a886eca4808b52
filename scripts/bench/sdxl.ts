/**
 * The SDXL cases of `npm run bench` (issue 10), run only when named (`--case sdxl-sessions` etc.): a full-size SDXL
 * base checkpoint with seeded random weights (F16, about 6.9 GB, written once under the bench folder; random
 * weights cost what real ones cost), its session creation (CLIP-L + bigG + UNet + VAE decoder), one UNet step at
 * 1024² with CFG (batch 2) and a whole 1024² txt2img with a few steps. Peak RSS is the child process's, so each
 * case reports the memory it needed. They need a quiet machine with ≥ 24 GB: not part of a plain `npm run bench`.
 *
 * `sdxlCases` builds the same cases for any SDXL config and size, so a test runs their code path on a tiny one.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTxt2ImgParams, StableDiffusion } from '@sdapi/engine';
import type { ModelConfig } from '../../packages/engine/src/checkpoint/config.ts';
import { buildTextEncoderGraph } from '../../packages/engine/src/models/clip-text.ts';
import { buildUNetGraph } from '../../packages/engine/src/models/unet-model.ts';
import { buildVAEDecoderGraph } from '../../packages/engine/src/models/vae.ts';
import { LoadedModel } from '../../packages/engine/src/pipeline/model.ts';
import { SDXL_BASE_CONFIG } from '../../packages/engine/test/helpers/checkpoint-tables.ts';
import { type BenchCase, type CaseContext, filled, gflopOf, randomCheckpoint, timeRuns } from './harness.ts';

export interface SdxlBenchSpec {
  /** Case-name stem (`sdxl` → `sdxl-sessions`, `sdxl-unet-1024-cfg`, `sdxl-txt2img-1024-4`). */
  tag: string;
  config: ModelConfig;
  /** Image side in pixels. */
  size: number;
  /** Sampling steps of the whole-image case. */
  steps: number;
  /** Checkpoint file name under the bench folder. */
  file: string;
}

/** The full-size SDXL base (sd_xl_base.yaml) at 1024², 4 steps. */
export const SDXL_BENCH: SdxlBenchSpec = { tag: 'sdxl', config: SDXL_BASE_CONFIG, size: 1024, steps: 4, file: 'sdxl-random-f16.safetensors' };

const checkpoint = (ctx: CaseContext, spec: SdxlBenchSpec): string => randomCheckpoint(ctx.dir, spec.file, spec.config, spec.tag);

/** The three SDXL cases for `spec` (never in `--quick` or a plain run). */
export function sdxlCases(spec: SdxlBenchSpec): BenchCase[] {
  const { config, size, steps, tag } = spec;
  const unet = config.unet;
  if (unet.adm_in_channels === null) throw new Error(`${tag}: not an SDXL config (no adm_in_channels)`);
  const adm = unet.adm_in_channels;
  const unetGflop = () => gflopOf(buildUNetGraph(unet), { N: 2, H: size / 8, W: size / 8, L: 77 });
  const cacheDir = (ctx: CaseContext, name: string) => join(ctx.dir, `${tag}-${name}`);

  const sessions: BenchCase = {
    name: `${tag}-sessions`,
    description: `${tag}: session creation cold then warm (CLIP-L + bigG + UNet + VAE decoder)`,
    quick: false,
    byDefault: false,
    async run(ctx) {
      const path = checkpoint(ctx, spec);
      const cache = cacheDir(ctx, 'onnx-cache-sessions');
      rmSync(cache, { recursive: true, force: true });
      const cold = LoadedModel.open(path, { cacheDir: cache });
      const coldSeconds = await timeRuns(1, () => cold.warmUp(), { warmUp: false });
      await cold.release();
      const warm = LoadedModel.open(path, { cacheDir: cache });
      const seconds = await timeRuns(1, () => warm.warmUp(), { warmUp: false });
      await warm.release();
      return { seconds, gflop: null, notes: [`cold (no ORT cache): ${coldSeconds[0].toFixed(1)} s; warm (timed): ${seconds[0].toFixed(1)} s`] };
    },
  };

  const unetStep: BenchCase = {
    name: `${tag}-unet-${size}-cfg`,
    description: `${tag}: UNet step ${size}², CFG batch 2 (with the size/crop vector)`,
    quick: false,
    byDefault: false,
    async run(ctx) {
      const model = LoadedModel.open(checkpoint(ctx, spec), { cacheDir: cacheDir(ctx, 'onnx-cache') });
      const x = filled([2, 4, size / 8, size / 8]);
      const context = filled([2, 77, unet.context_dim]);
      const y = filled([2, adm]);
      const seconds = await timeRuns(ctx.runs, () => model.unet(x, [500, 500], context, y));
      await model.release();
      return { seconds, gflop: unetGflop() };
    },
  };

  const txt2img: BenchCase = {
    name: `${tag}-txt2img-${size}-${steps}`,
    description: `${tag}: whole txt2img ${size}², ${steps} steps Euler a (sessions warm)`,
    quick: false,
    byDefault: false,
    async run(ctx) {
      const sd = StableDiffusion.open(checkpoint(ctx, spec), { cacheDir: cacheDir(ctx, 'onnx-cache') });
      await sd.warmUp();
      const params = defaultTxt2ImgParams({
        prompt: 'a photograph of an astronaut riding a horse',
        seed: 1,
        steps,
        samplerName: 'Euler a',
        width: size,
        height: size,
      });
      let image: { width: number; height: number } | undefined;
      const seconds = await timeRuns(
        1,
        async () => {
          image = (await sd.txt2img(params)).images[0];
        },
        { warmUp: false },
      );
      await sd.release();
      const text = config.text_encoders.reduce((sum, t) => sum + gflopOf(buildTextEncoderGraph(t, { tokenFixes: true }), { N: 2 }), 0);
      const vae = gflopOf(buildVAEDecoderGraph(config.vae), { N: 1, h: size / 8, w: size / 8 });
      return { seconds, gflop: text + steps * unetGflop() + vae, notes: [`image ${image?.width}×${image?.height}`] };
    },
  };

  return [sessions, unetStep, txt2img];
}

export const SDXL_CASES: BenchCase[] = sdxlCases(SDXL_BENCH);
