/**
 * Extras jobs (`extra-single-image`, `extra-batch-images`): the A1111 body validated by its route's schema, the
 * images decoded and every size checked at submission, the upscale inside the queue (progress job `extras`,
 * `job_count` = images). Stored results are PNGs with A1111's `parameters` (when the input had one) and
 * `postprocessing` chunks; `info` is `{ html_info }`. The base64 images are dropped from the stored request
 * once the job is done (like img2img's), so `result.parameters` carries the options, not the pixels; the decoded
 * images are kept as the job's inputs (jobs/inputs.ts) for an exact replay.
 */
import type { GenerationHooks } from '@sdapi/engine';
import { ExtrasBatchImagesRequest, ExtrasSingleImageRequest } from '@sdapi/protocol';
import { type ExtrasJob, type ExtrasOutput, extrasPng, extrasText, runExtras, toExtrasJob } from '../extras.ts';
import type { OptionsStore } from '../options-store.ts';
import type { ModelUpscalers } from '../upscalers.ts';
import type { JobInput } from './inputs.ts';
import { type JobKind, validateBody } from './kinds.ts';

export interface ExtrasPrepared {
  job: ExtrasJob;
  /** The validated options, echoed as `result.parameters` (images left out). */
  parameters: Record<string, unknown>;
}

/** The sync routes' preparation; v2 jobs go through the same function. `maxImagePixels`: `--max-image-pixels`. */
export async function prepareExtras(
  request: Record<string, unknown>,
  batch: boolean,
  options: OptionsStore,
  maxImagePixels: number,
  models?: ModelUpscalers,
): Promise<ExtrasPrepared> {
  const effective = options.effective();
  if (batch) {
    const body = validateBody<ExtrasBatchImagesRequest>(ExtrasBatchImagesRequest, request);
    const { imageList, ...rest } = body;
    const images = imageList.map((f, i) => ({ value: f.data, field: `imageList[${i}].data` }));
    return {
      job: await toExtrasJob(rest, images, effective, maxImagePixels, models),
      parameters: { ...rest, imageList: imageList.map((f) => ({ name: f.name, data: null })) },
    };
  }
  const body = validateBody<ExtrasSingleImageRequest>(ExtrasSingleImageRequest, request);
  const { image, ...rest } = body;
  return { job: await toExtrasJob(rest, [{ value: image ?? '', field: 'image' }], effective, maxImagePixels, models), parameters: { ...rest, image: null } };
}

/**
 * @param maxImagePixels the server's `--max-image-pixels` (RequestLimits), for the input images
 * @param track wraps the run's hooks (SdService's live preview, reset at each job start).
 * @param models the model upscalers (ESRGAN files) the jobs may name, run by the generator.
 */
export function extrasKind(
  batch: boolean,
  options: OptionsStore,
  maxImagePixels: number,
  track: (hooks: GenerationHooks) => GenerationHooks = (h) => h,
  models?: ModelUpscalers,
): JobKind<ExtrasPrepared, ExtrasOutput> {
  return {
    progressName: 'extras',
    prepare: (request) => prepareExtras(request, batch, options, maxImagePixels, models),
    jobCount: (prepared) => prepared.job.images.length,
    run: (prepared, hooks) => runExtras(prepared.job, track(hooks), models),
    finish(prepared, output) {
      // Stored results are PNGs (the image URLs say image/png), with the chunks the sync route's PNGs carry.
      const pnginfo = options.effective().enable_pnginfo === true;
      const images = output.images.map((img) => ({
        png: extrasPng(img, pnginfo ? extrasText(img) : {}),
        width: img.pixels.width,
        height: img.pixels.height,
        seed: -1,
        subseed: -1,
        infotext: img.postprocessing,
      }));
      return { images, parameters: prepared.parameters, info: { html_info: output.htmlInfo }, interrupted: output.interrupted };
    },
    // The decoded images (with their `parameters` text) are kept, so the job replays exactly.
    inputs: (prepared) =>
      prepared.job.images.map((img, index) => ({
        field: batch ? ('imageList' as const) : ('image' as const),
        index,
        image: img.pixels as JobInput['image'],
        text: img.parameters === null ? undefined : { parameters: img.parameters },
      })),
    retainedRequest: (request) => {
      const { image: _image, imageList, ...rest } = request;
      if (Array.isArray(imageList)) return { ...rest, imageList: imageList.map((f) => ({ name: (f as { name?: unknown })?.name ?? '', data: null })) };
      return _image === undefined ? rest : { ...rest, image: null };
    },
  };
}
