/**
 * Job kinds: what one job type (`txt2img`, later `img2img`, `extra-single-image`) does at each stage. `prepare`
 * validates the A1111 request exactly as its sync route does (same 422), `run` is the GPU work inside the
 * queue, `finish` turns the engine's output into stored images, the effective request and the `info` object.
 */
import { encodePng, type GenerationHooks, type Img2ImgResult, type Txt2ImgResult } from '@sdapi/engine';
import { coerce, type Img2ImgRequest, providedFields, Txt2ImgRequest } from '@sdapi/protocol';
import type { Catalog } from '../catalog.ts';
import { ApiError, RequestValidationError } from '../errors.ts';
import { type Img2ImgJob, toImg2ImgResponse } from '../img2img-mapping.ts';
import { type ResponseContext, type Txt2ImgJob, toTxt2ImgJob, toTxt2ImgResponse } from '../mapping.ts';
import type { OptionsStore } from '../options-store.ts';
import type { JobInput } from './inputs.ts';

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
  prepare(request: Record<string, unknown>): P | Promise<P>;
  /** Batches (n_iter): /sdapi/v1/progress `job_count`. */
  jobCount(prepared: P): number;
  run(prepared: P, hooks: GenerationHooks): Promise<O>;
  finish(prepared: P, output: O): KindOutput;
  /** What of the request to keep once the job is done (default: all of it). */
  retainedRequest?(request: Record<string, unknown>): Record<string, unknown>;
  /** Input images to keep with the finished job (jobs/inputs.ts), so that it can be replayed exactly. */
  inputs?(prepared: P): JobInput[];
}

/** A request body validated by its route's schema, with the sync route's 422 (`loc` under `body`). */
export function validateBody<T>(schema: object, request: Record<string, unknown>): T {
  const out = coerce<T>(schema, request, ['body']);
  if (!out.ok) throw new RequestValidationError(out.errors);
  return out.value;
}

/** Only the fields a coerced body carried: what the store keeps, so that re-validation gives the same body. */
export function providedSubset(body: object): Record<string, unknown> {
  const provided = providedFields(body);
  const entries = Object.entries(body).filter(([key]) => !provided || provided.has(key));
  return Object.fromEntries(entries);
}

export interface Prepared<B, J> {
  body: B;
  job: J;
}
export type Txt2ImgPrepared = Prepared<Txt2ImgRequest, Txt2ImgJob>;
export type Img2ImgPrepared = Prepared<Img2ImgRequest, Img2ImgJob>;

/** The request fields both generation routes share, as far as a job kind reads them. */
type GenerationBody = Pick<Txt2ImgRequest, 'seed' | 'subseed' | 'override_settings' | 'force_task_id'>;
type GenerationJob = Pick<Txt2ImgJob, 'persistentOverrides' | 'script'> & { params: { nIter: number; options: object } };

interface GenerationKindDeps<B, J> {
  progressName: string;
  options: OptionsStore;
  version: string | null;
  prepare(request: Record<string, unknown>): Prepared<B, J> | Promise<Prepared<B, J>>;
  /** Loads the job's checkpoint and generates (SdService). */
  run(job: J, hooks: GenerationHooks): Promise<Txt2ImgResult>;
  /** The A1111 `info` JSON text of the route's response. */
  info(body: B, result: Txt2ImgResult, ctx: ResponseContext): string;
  /** Title (`name [hash]`) of the loaded checkpoint. */
  loadedTitle(): string | null;
  keptOptions?(values: Record<string, unknown>): void;
  /** Request fields too large to keep once the job is done (img2img's images). */
  dropWhenDone?: readonly string[];
  /** The images behind those fields, kept as job inputs instead. */
  inputs?(job: J): JobInput[];
}

/** txt2img and img2img: the same stages, with the route's own mapping and `info`. */
function generationKind<B extends GenerationBody, J extends GenerationJob>(deps: GenerationKindDeps<B, J>): JobKind<Prepared<B, J>, Txt2ImgResult> {
  return {
    progressName: deps.progressName,
    prepare: deps.prepare,
    // A script counts its own generations (X/Y/Z: cells × n_iter).
    jobCount: (prepared) => prepared.job.script?.jobCount ?? prepared.job.params.nIter,
    run: (prepared, hooks) => deps.run(prepared.job, hooks),
    finish({ body, job }, result) {
      // A1111 applies `override_settings_restore_afterwards: false` after the job (in a cluster, on every node).
      const kept = Object.entries(job.persistentOverrides);
      for (const [key, value] of kept) deps.options.setInMemory(key, value);
      if (kept.length > 0) deps.keptOptions?.(job.persistentOverrides);
      const info = deps.info(body, result, { options: deps.options.effective(), version: deps.version, images: [] });
      return {
        // return_mask / return_mask_composite (img2img inpainting): the mask and the composite follow the image they
        // belong to, as A1111 appends them and the sync route returns them. They carry their image's seeds and no
        // infotext (A1111 writes none for them; `info.infotexts` stays one per generated image).
        images: result.images.flatMap((img, i) => [
          {
            png: encodePng(img.rgb, img.width, img.height, { parameters: img.infotext }),
            width: img.width,
            height: img.height,
            seed: img.seed,
            subseed: img.subseed,
            infotext: img.infotext,
          },
          ...(result.returnedMasks?.[i] ?? []).map((extra) => ({
            png: encodePng(extra.rgb, extra.width, extra.height),
            width: extra.width,
            height: extra.height,
            seed: img.seed,
            subseed: img.subseed,
            infotext: '',
          })),
        ]),
        parameters: effectiveRequest(body, job, result, deps.loadedTitle(), deps.dropWhenDone ?? []),
        info: JSON.parse(info) as Record<string, unknown>,
        interrupted: result.interrupted,
      };
    },
    retainedRequest: (request) => withoutFields(request, deps.dropWhenDone ?? []),
    inputs: deps.inputs && ((prepared) => deps.inputs?.(prepared.job) ?? []),
  };
}

export interface KindDeps {
  catalog: Catalog;
  options: OptionsStore;
  version: string | null;
  loadedTitle(): string | null;
  /** Settings a job kept (`override_settings_restore_afterwards: false`): shared with a cluster's other nodes. */
  keptOptions?(values: Record<string, unknown>): void;
}

export function txt2imgKind(
  deps: KindDeps & { run(job: Txt2ImgJob, hooks: GenerationHooks): Promise<Txt2ImgResult> },
): JobKind<Txt2ImgPrepared, Txt2ImgResult> {
  return generationKind<Txt2ImgRequest, Txt2ImgJob>({
    ...deps,
    progressName: 'scripts_txt2img',
    // The plain mapping; the txt2img route replaces it with its own (infotext, ControlNet) via definePrepare.
    prepare(request) {
      const body = validateBody<Txt2ImgRequest>(Txt2ImgRequest, request);
      return { body, job: toTxt2ImgJob(body, deps.options.effective(), deps.catalog) };
    },
    info: (body, result, ctx) => toTxt2ImgResponse({ ...body, send_images: false }, result, ctx).info,
  });
}

/**
 * img2img jobs. There is no plain mapping here (init images need the route's decoder): the img2img route
 * registers its preparation with `definePrepare`. The init images and mask are dropped from the stored request
 * and from `result.parameters` once the job is done (as A1111's echo drops them), so memory stays bounded; they
 * are kept as the job's inputs instead (jobs/inputs.ts: URLs in `result.inputs`, and the replay route).
 */
export function img2imgKind(
  deps: KindDeps & { run(job: Img2ImgJob, hooks: GenerationHooks): Promise<Img2ImgResult> },
): JobKind<Img2ImgPrepared, Img2ImgResult> {
  return generationKind<Img2ImgRequest, Img2ImgJob>({
    ...deps,
    progressName: 'scripts_img2img',
    prepare() {
      throw new ApiError('UNSUPPORTED_PARAM', 'img2img jobs need the img2img route, which this server has not registered');
    },
    info: (body, result, ctx) => toImg2ImgResponse({ ...body, send_images: false }, result, { ...ctx, images: [] }).info,
    dropWhenDone: ['init_images', 'mask'],
    inputs: (job) => [
      ...job.params.initImages.map((image, index) => ({ field: 'init_images' as const, index, image: rgbaInput(image) })),
      ...(job.params.mask ? [{ field: 'mask' as const, index: 0, image: rgbaInput(job.params.mask) }] : []),
    ],
  });
}

/** The engine reads img2img images as RGBA: kept as RGBA. */
const rgbaInput = (image: { width: number; height: number; rgba: Uint8Array }) => ({
  width: image.width,
  height: image.height,
  channels: 4 as const,
  data: image.rgba,
});

function withoutFields(request: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  if (!fields.some((f) => f in request)) return request;
  return Object.fromEntries(Object.entries(request).filter(([key]) => !fields.includes(key)));
}

/**
 * The request that replays this job exactly on any server: resolved seeds, sampler and scheduler, the checkpoint
 * by title with its hash, and every engine option that was in force, pinned through `override_settings` (restored
 * afterwards, so a replay changes no server setting). `force_task_id` is dropped: ids are unique.
 */
function effectiveRequest(
  body: GenerationBody,
  job: GenerationJob,
  result: Txt2ImgResult,
  title: string | null,
  drop: readonly string[],
): Record<string, unknown> {
  const { force_task_id: _taskId, ...rest } = body;
  const overrides: Record<string, unknown> = { ...(body.override_settings ?? {}), ...job.params.options };
  if (title) overrides.sd_model_checkpoint = title;
  const dropped = Object.fromEntries(drop.map((field) => [field, null]));
  return {
    ...rest,
    ...dropped,
    seed: result.allSeeds[0] ?? body.seed,
    subseed: result.allSubseeds[0] ?? body.subseed,
    sampler_name: result.samplerName,
    sampler_index: result.samplerName,
    scheduler: result.scheduler,
    override_settings: overrides,
    override_settings_restore_afterwards: true,
  };
}
