/**
 * A deterministic stand-in for the engine: images are a pattern of the seed, infotexts come from the real
 * createInfotext, and the sampling loop honours progress, interrupt and skip hooks like the engine contract says.
 */
import {
  createInfotext,
  type GenerationHooks,
  type GenerationProgress,
  type Img2ImgParams,
  type Img2ImgResult,
  type Txt2ImgParams,
  type Txt2ImgResult,
} from '@sdapi/engine';
import type { CheckpointFile, Generator } from '../../src/index.ts';

export const CHECKPOINTS: CheckpointFile[] = [
  { name: 'v1-5-pruned-emaonly.safetensors', filename: '/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors', sha256: null, legacyHash: 'e3b0c442' },
  { name: 'sub/other.safetensors', filename: '/models/Stable-diffusion/sub/other.safetensors', sha256: null },
];

const SHA = (name: string) => Buffer.from(name.padEnd(32, '#')).toString('hex').slice(0, 64);

/** The RGB pattern the fake draws for a seed (tests recompute it). */
export function fakePixels(seed: number, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (seed * 31 + i * 7) & 0xff;
  return rgb;
}

export class FakeGenerator implements Generator {
  files = CHECKPOINTS.map((f) => ({ ...f }));
  current: CheckpointFile | null = null;
  readonly calls: Txt2ImgParams[] = [];
  readonly img2imgCalls: Img2ImgParams[] = [];
  readonly loads: string[] = [];
  /** Milliseconds per sampling step (0 = no waiting). */
  stepDelayMs = 0;

  async listCheckpoints(): Promise<CheckpointFile[]> {
    return this.files.map((f) => ({ ...f }));
  }

  currentCheckpoint(): CheckpointFile | null {
    return this.current;
  }

  async loadCheckpoint(file: CheckpointFile): Promise<CheckpointFile> {
    const stored = this.files.find((f) => f.filename === file.filename);
    if (!stored) throw new Error(`no such checkpoint ${file.filename}`);
    stored.sha256 ??= SHA(stored.name); // hashed on first load, as A1111 does
    this.loads.push(stored.name);
    this.current = { ...stored };
    return this.current;
  }

  /** POST /unload-checkpoint: nothing is loaded afterwards. */
  unloads = 0;
  async unloadCheckpoint(): Promise<void> {
    this.unloads++;
    this.current = null;
  }

  async txt2img(params: Txt2ImgParams, hooks: GenerationHooks): Promise<Txt2ImgResult> {
    this.calls.push(params);
    const seed = params.seed === -1 ? 1234 : params.seed;
    const total = params.batchSize * params.nIter;
    const allSeeds = Array.from({ length: total }, (_, i) => (params.subseedStrength === 0 ? seed + i : seed));
    const allSubseeds = Array.from({ length: total }, (_, i) => (params.subseed === -1 ? 99 : params.subseed) + i);
    let interrupted = false;
    let produced = 0;
    for (let n = 0; n < params.nIter && !hooks.signal?.aborted; n++) {
      const skip = hooks.skipSignal?.();
      for (let step = 0; step < params.steps; step++) {
        if (hooks.signal?.aborted || skip?.aborted) break;
        hooks.onProgress?.({
          jobNo: n,
          jobCount: params.nIter,
          samplingStep: step,
          samplingSteps: params.steps,
          latent: fakeLatent(params, step),
          latentFormat: 'sd',
        });
        if (this.stepDelayMs > 0) await new Promise((r) => setTimeout(r, this.stepDelayMs));
      }
      produced += params.batchSize;
      hooks.onProgress?.({ jobNo: n + 1, jobCount: params.nIter, samplingStep: 0, samplingSteps: params.steps });
    }
    interrupted = hooks.signal?.aborted ?? false;
    return this.result(params, allSeeds.slice(0, produced), allSubseeds.slice(0, produced), interrupted);
  }

  /** img2img as the fake's txt2img (same pixels and seeds), recorded apart, with the img2img result fields. */
  async img2img(params: Img2ImgParams, hooks: GenerationHooks): Promise<Img2ImgResult> {
    this.img2imgCalls.push(params);
    const result = await this.txt2img(params, hooks);
    this.calls.pop();
    return {
      ...result,
      batchSize: params.batchSize,
      denoisingStrength: params.denoisingStrength,
      extraGenerationParams: { 'Denoising strength': params.denoisingStrength },
    };
  }

  private result(params: Txt2ImgParams, allSeeds: number[], allSubseeds: number[], interrupted: boolean): Txt2ImgResult {
    const allPrompts = allSeeds.map(() => params.prompt);
    const allNegativePrompts = allSeeds.map(() => params.negativePrompt);
    const model = this.current;
    const sdModelName = model
      ? (model.name
          .replace(/\.[^.]*$/, '')
          .split('/')
          .pop() ?? null)
      : null;
    const sdModelHash = model?.sha256?.slice(0, 10) ?? null;
    const p = {
      allPrompts,
      allNegativePrompts,
      allSeeds,
      allSubseeds,
      steps: params.steps,
      samplerName: params.samplerName,
      scheduler: params.scheduler,
      cfgScale: params.cfgScale,
      width: params.width,
      height: params.height,
      batchSize: params.batchSize,
      sdModelName,
      sdModelHash,
      subseedStrength: params.subseedStrength,
      seedResizeFromW: params.seedResizeFromW,
      seedResizeFromH: params.seedResizeFromH,
      eta: params.eta,
    };
    const images = allSeeds.map((seed, i) => ({
      width: params.width,
      height: params.height,
      rgb: fakePixels(seed, params.width, params.height),
      seed,
      subseed: allSubseeds[i],
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      infotext: createInfotext(p, {
        iteration: Math.floor(i / params.batchSize),
        positionInBatch: i % params.batchSize,
        options: params.options,
        version: 'v1.10.1',
      }),
    }));
    return {
      images,
      allPrompts,
      allNegativePrompts,
      allSeeds,
      allSubseeds,
      samplerName: params.samplerName,
      scheduler: params.scheduler,
      clipSkip: params.options.CLIP_stop_at_last_layers,
      sdModelName: sdModelName ?? '',
      sdModelHash,
      extraGenerationParams: {},
      jobTimestamp: '20240727100000',
      interrupted,
    };
  }
}

/** A latent whose channel 0 grows with the step (previews change as sampling goes on). */
function fakeLatent(params: Txt2ImgParams, step: number): GenerationProgress['latent'] {
  const shape = [params.batchSize, 4, Math.max(1, Math.floor(params.height / 8)), Math.max(1, Math.floor(params.width / 8))];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(step / Math.max(1, params.steps));
  return { shape, data } as unknown as GenerationProgress['latent'];
}
