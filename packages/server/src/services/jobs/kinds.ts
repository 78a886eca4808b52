/**
 * Job kinds: what one job type (`txt2img`, later `img2img`, `extra-single-image`) does at each stage. `prepare`
 * validates the A1111 request exactly as its sync route does (same 422), `run` is the GPU work inside the
 * queue, `finish` turns the engine's output into stored images, the effective request and the `info` object.
 */
import { encodePng, type GenerationHooks, type Txt2ImgResult } from '@sdapi/engine';
import { coerce, providedFields, Txt2ImgRequest } from '@sdapi/protocol';
import type { Catalog } from '../catalog.ts';
import { RequestValidationError } from '../errors.ts';
import { type Txt2ImgJob, toTxt2ImgJob, toTxt2ImgResponse } from '../mapping.ts';
import type { OptionsStore } from '../options-store.ts';

export interface FinishedImage {
  png: Uint8Array;
  width: number;
  height: number;
  seed: number;
  subseed: number;
  infotext: string;
}

export interface KindOutput {
  images: FinishedImage[];
  /** The full effective request: posting it again replays the job. */
  parameters: Record<string, unknown>;
  info: Record<string, unknown> | null;
  interrupted: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: kinds are stored in one table of different P/O types.
export interface JobKind<P = any, O = any> {
  /** `state.job` of /sdapi/v1/progress while it runs. */
  progressName: string;
  /** Validates and maps a request body (as the client sent it); throws the sync route's 422. */
  prepare(request: Record<string, unknown>): P;
  /** Batches (n_iter): /sdapi/v1/progress `job_count`. */
  jobCount(prepared: P): number;
  run(prepared: P, hooks: GenerationHooks): Promise<O>;
  finish(prepared: P, output: O): KindOutput;
}

/** Only the fields a coerced body carried: what the store keeps, so that re-validation gives the same body. */
export function providedSubset(body: object): Record<string, unknown> {
  const provided = providedFields(body);
  const entries = Object.entries(body).filter(([key]) => !provided || provided.has(key));
  return Object.fromEntries(entries);
}

export interface Txt2ImgPrepared {
  body: Txt2ImgRequest;
  job: Txt2ImgJob;
}

export interface Txt2ImgKindDeps {
  catalog: Catalog;
  options: OptionsStore;
  version: string | null;
  /** Loads the job's checkpoint and generates (SdService). */
  run(job: Txt2ImgJob, hooks: GenerationHooks): Promise<Txt2ImgResult>;
  /** Title (`name [hash]`) of the loaded checkpoint. */
  loadedTitle(): string | null;
}

export function txt2imgKind(deps: Txt2ImgKindDeps): JobKind<Txt2ImgPrepared, Txt2ImgResult> {
  return {
    progressName: 'scripts_txt2img',
    prepare(request) {
      const out = coerce<Txt2ImgRequest>(Txt2ImgRequest, request, ['body']);
      if (!out.ok) throw new RequestValidationError(out.errors);
      return { body: out.value, job: toTxt2ImgJob(out.value, deps.options.effective(), deps.catalog) };
    },
    jobCount: (prepared) => prepared.job.params.nIter,
    run: (prepared, hooks) => deps.run(prepared.job, hooks),
    finish({ body, job }, result) {
      // A1111 applies `override_settings_restore_afterwards: false` after the job.
      for (const [key, value] of Object.entries(job.persistentOverrides)) deps.options.setInMemory(key, value);
      const response = toTxt2ImgResponse({ ...body, send_images: false }, result, { options: deps.options.effective(), version: deps.version });
      return {
        images: result.images.map((img) => ({
          png: encodePng(img.rgb, img.width, img.height, { parameters: img.infotext }),
          width: img.width,
          height: img.height,
          seed: img.seed,
          subseed: img.subseed,
          infotext: img.infotext,
        })),
        parameters: effectiveTxt2Img(body, job, result, deps.loadedTitle()),
        info: JSON.parse(response.info) as Record<string, unknown>,
        interrupted: result.interrupted,
      };
    },
  };
}

/**
 * The request that replays this job exactly on any server: resolved seeds, sampler and scheduler, the checkpoint
 * by title with its hash, and every engine option that was in force, pinned through `override_settings` (restored
 * afterwards, so a replay changes no server setting). `force_task_id` is dropped: ids are unique.
 */
function effectiveTxt2Img(body: Txt2ImgRequest, job: Txt2ImgJob, result: Txt2ImgResult, title: string | null): Record<string, unknown> {
  const { force_task_id: _taskId, ...rest } = body;
  const overrides: Record<string, unknown> = { ...(body.override_settings ?? {}), ...job.params.options };
  if (title) overrides.sd_model_checkpoint = title;
  return {
    ...rest,
    seed: result.allSeeds[0] ?? body.seed,
    subseed: result.allSubseeds[0] ?? body.subseed,
    sampler_name: result.samplerName,
    sampler_index: result.samplerName,
    scheduler: result.scheduler,
    override_settings: overrides,
    override_settings_restore_afterwards: true,
  };
}
