/**
 * img2img and inpainting, unrolled like txt2img.ts and following A1111's StableDiffusionProcessingImg2Img
 * (spec §3.2): seeds → init images and mask (pixels) → init latent, latent mask, inpainting conditioning →
 * per iteration: conditioning, seed noise, sampling over the truncated schedule with the mask blended in at
 * every step → mask blend → VAE decode → original pasted back outside the mask → infotexts.
 */
import { applyColorCorrection } from '../image/color-correction.ts';
import { pixels } from '../image/compose.ts';
import { toRgbBytes } from '../image/convert.ts';
import { numpySeedFor } from '../image/shuffle.ts';
import { ImageRNG } from '../rng/image-rng.ts';
import { Tensor } from '../tensor.ts';
import { stripComments } from '../text/comments.ts';
import { type ControlInit, controlHook, type PreparedControl, postProcessControl, prepareControl } from './control-units.ts';
import { applyOverlay, type PreparedImages, prepareImages } from './img2img-inputs.ts';
import { encodeBatch, fillLatent, inpaintingConditioning, latentMaskFor, resizeLatent, toImageTensor } from './img2img-latents.ts';
import { blendLatent, type InitLatent, img2imgSteps, type LatentMask } from './img2img-sampling.ts';
import { createInfotext, type InfotextParams, pyFloat } from './infotext.ts';
import type { LoadedModel } from './model.ts';
import { withSdLora } from './networks.ts';
import { prepareRefiner, type RefinerJob, refinerSwitch } from './refiner-pass.ts';
import { type ReturnedImage, returnedMasks } from './returned-masks.ts';
import { conditionBatch, prepareSampling, runSampling } from './sample.ts';
import { sdxlMicroConditioning } from './sdxl-conditioning.ts';
import { allSeeds, jobTimestamp, resolveSeed } from './seeds.ts';
import { INFOTEXT_VERSION } from './txt2img.ts';
import type { GeneratedImage, GenerationHooks, Img2ImgParams, Img2ImgResult } from './types.ts';
import { validateImg2Img } from './validate-img2img.ts';

/** The init latents and what inpainting adds to them. */
interface PreparedLatents {
  init: Tensor;
  latentMask: LatentMask | null;
  imageCond: Tensor | null;
}

/** Step 3: VAE encode (+ resize mode 3), latent mask and its fills, inpainting-model conditioning. */
async function prepareLatents(model: LoadedModel, p: Img2ImgParams, inputs: PreparedImages, seeds: readonly number[]): Promise<PreparedLatents> {
  let init = await encodeBatch(model, inputs.images);
  if (p.resizeMode === 3) init = resizeLatent(init, p.width, p.height);
  let latentMask: LatentMask | null = null;
  const round = p.maskRound ?? true;
  if (inputs.imageMask) {
    latentMask = await latentMaskFor(inputs.imageMask, init, round);
    const fill = p.inpaintingFill ?? 0;
    if (fill === 2 || fill === 3) {
      init = fillLatent(latentMask, fill, seeds, p.options);
      latentMask = { ...latentMask, init };
      inputs.extra['Masked content'] = fill === 2 ? 'latent noise' : 'latent nothing';
    }
  }
  let imageCond: Tensor | null = null;
  if (model.config.unet.in_channels !== init.shape[1]) {
    const source = Tensor.cat(inputs.images.map(toImageTensor));
    imageCond = await inpaintingConditioning(model, source, inputs.imageMask, p.options.inpainting_mask_weight ?? 1, round, [init.shape[2], init.shape[3]]);
  }
  return { init, latentMask, imageCond };
}

/**
 * Turns init images (and an optional mask) into `batchSize × nIter` images.
 * @example
 * const result = await img2img(model, { ...defaultImg2ImgParams(), initImages: [{ width, height, rgba }], denoisingStrength: 0.6 });
 */
export async function img2img(model: LoadedModel, params: Img2ImgParams, hooks: GenerationHooks = {}): Promise<Img2ImgResult> {
  validateImg2Img(params, model.config);
  model.tiling = params.tiling ?? false; // circular convolutions for this job (A1111 apply_circular)
  const timestamp = jobTimestamp();
  // 1. Seeds and prompts for batch_size × n_iter images (A1111 sets them up before init lowers the batch size).
  const count = params.batchSize * params.nIter;
  const { seeds, subseeds } = allSeeds(resolveSeed(params.seed), resolveSeed(params.subseed), params.subseedStrength, count);
  const comments = params.options.enable_prompt_comments ?? true;
  const prompts = withSdLora(model, Array<string>(count).fill(comments ? stripComments(params.prompt) : params.prompt), params.options); // option sd_lora
  const negatives = Array<string>(count).fill(comments ? stripComments(params.negativePrompt) : params.negativePrompt);
  // 2. Pixels: mask, init images, overlays; 3. latents.
  const inputs = await prepareImages(params);
  const batchSize = inputs.batchSize;
  const latents = await prepareLatents(model, params, inputs, seeds);
  // 4. The sampler over A1111's img2img schedule: `steps` long, of which t_enc + 1 run.
  const { steps, tEnc } = img2imgSteps(params.steps, params.denoisingStrength, params.options.img2img_fix_steps ?? false);
  const sampling = prepareSampling(model, { ...params, steps: Math.max(steps, 1) });
  const noiseMultiplier = params.initialNoiseMultiplier ?? params.options.initial_noise_multiplier ?? 1;
  const extraNoise = params.options.img2img_extra_noise ?? 0;
  // 4b. ControlNet units: a unit without an image takes the first init image (§3 of the ControlNet spec).
  const box = inputs.pasteTo && params.mask ? inputs.pasteTo : null; // "only masked": [x, y, w, h] in mask coordinates
  const crop = box && params.mask ? { box: [box[0], box[1], box[0] + box[2], box[1] + box[3]] as [number, number, number, number], maskWidth: params.mask.width, maskHeight: params.mask.height } : null;
  const controlInit: ControlInit | null = params.initImages[0] ? { image: params.initImages[0], resizeMode: params.resizeMode, crop } : null;
  const control = await prepareControl(model, params.controlNet, params, controlInit, null, numpySeedFor(params.seed, params.subseed, seeds[0]));
  const refiner = await prepareRefiner(model, params);
  const job: Job = { model, params, hooks, latents, inputs, sampling, batchSize, seeds, subseeds, prompts, negatives, control, refiner };
  const init = { steps, tEnc, noiseMultiplier, extraNoise };
  const extra: Record<string, unknown> = { ...control?.infotext, ...inputs.extra }; // the extension's process() runs before init
  if (noiseMultiplier !== 1) extra['Noise multiplier'] = pyFloat(noiseMultiplier);
  const infotextParams = infotextParamsFor(job, extra);
  const images: GeneratedImage[] = [];
  const returned: ReturnedImage[][] = []; // return_mask / return_mask_composite, per image
  let interrupted = false;
  const warnings = new Set<string>(); // per batch the same notes would repeat
  const sampledExtra: Record<string, unknown> = {}; // keys written during sampling (the refiner's switch) stay for the job
  const onSampled = (keys: Record<string, unknown>, notes: readonly string[]) => {
    Object.assign(sampledExtra, keys);
    infotextParams.extraGenerationParams = { ...infotextParams.extraGenerationParams, ...keys };
    for (const w of notes) warnings.add(w);
  };
  for (let iteration = 0; iteration < params.nIter && !hooks.signal?.aborted; iteration++) {
    const onText = (textParams: Record<string, unknown>, batchWarnings: readonly string[]) => {
      for (const w of batchWarnings) warnings.add(w);
      // Text keys (TI hashes, Emphasis) come after init's and before the sampler's, as in A1111's infotexts.
      infotextParams.extraGenerationParams = {
        ...extra,
        ...textParams,
        ...sampling.extraGenerationParams,
        ...(extraNoise > 0 ? { 'Extra noise': pyFloat(extraNoise) } : {}),
        ...sampledExtra,
      };
    };
    const out = await runIteration(job, iteration, init, onText, onSampled);
    interrupted ||= out.interrupted;
    returned.push(...out.masks);
    for (const [b, image] of out.images.entries()) {
      const index = iteration * batchSize + b;
      const infotext = createInfotext(infotextParams, {
        iteration,
        positionInBatch: b,
        options: params.options,
        version: params.infotextVersion === undefined ? INFOTEXT_VERSION : params.infotextVersion,
      });
      images.push({ ...image, seed: seeds[index], subseed: subseeds[index], prompt: prompts[index], negativePrompt: negatives[index], infotext });
    }
  }
  const result = resultOf(job, images, infotextParams.extraGenerationParams ?? extra, { timestamp, interrupted, warnings: [...warnings] });
  return returned.some((r) => r.length > 0) ? { ...result, returnedMasks: returned } : result;
}

function resultOf(
  job: Job,
  images: GeneratedImage[],
  extraGenerationParams: Record<string, unknown>,
  run: { timestamp: string; interrupted: boolean; warnings: string[] },
): Img2ImgResult {
  const { model, params, sampling, control } = job;
  return {
    images,
    allPrompts: job.prompts,
    allNegativePrompts: job.negatives,
    allSeeds: job.seeds,
    allSubseeds: job.subseeds,
    samplerName: sampling.samplerName,
    scheduler: sampling.schedulerLabel,
    clipSkip: params.options.CLIP_stop_at_last_layers,
    sdModelName: model.name,
    sdModelHash: model.shortHash,
    sdVaeName: model.vae?.name ?? null,
    sdVaeHash: model.vae?.shortHash ?? null,
    extraGenerationParams,
    jobTimestamp: run.timestamp,
    interrupted: run.interrupted,
    width: params.width,
    height: params.height,
    batchSize: job.batchSize,
    denoisingStrength: params.denoisingStrength,
    isUsingInpaintingConditioning: job.latents.imageCond !== null,
    ...(control && control.detectedMaps.length > 0
      ? { detectedMaps: control.detectedMaps.map((m) => ({ width: m.width, height: m.height, rgb: m.data })) }
      : {}),
    ...(run.warnings.length > 0 ? { warnings: run.warnings } : {}),
  };
}

/** What create_infotext reads for this job (`extraGenerationParams` is completed per batch). */
function infotextParamsFor(job: Job, extra: Record<string, unknown>): InfotextParams {
  const { model, params, sampling, latents } = job;
  return {
    allPrompts: job.prompts,
    allNegativePrompts: job.negatives,
    allSeeds: job.seeds,
    allSubseeds: job.subseeds,
    steps: params.steps,
    samplerName: sampling.samplerName,
    scheduler: sampling.schedulerLabel,
    cfgScale: params.cfgScale,
    width: params.width,
    height: params.height,
    batchSize: job.batchSize,
    sdModelName: model.name,
    sdModelHash: model.shortHash,
    sdVaeName: model.vae?.name ?? null,
    sdVaeHash: model.vae?.shortHash ?? null,
    subseedStrength: params.subseedStrength,
    seedResizeFromW: params.seedResizeFromW,
    seedResizeFromH: params.seedResizeFromH,
    tiling: params.tiling,
    clipSkip: params.options.CLIP_stop_at_last_layers,
    eta: params.eta,
    isUsingInpaintingConditioning: latents.imageCond !== null,
    extraGenerationParams: extra,
  };
}

interface Job {
  model: LoadedModel;
  params: Img2ImgParams;
  hooks: GenerationHooks;
  latents: PreparedLatents;
  inputs: PreparedImages;
  sampling: ReturnType<typeof prepareSampling>;
  batchSize: number;
  seeds: number[];
  subseeds: number[];
  prompts: string[];
  negatives: string[];
  control: PreparedControl | null;
  refiner: RefinerJob | null;
}

type Pixelless = Omit<GeneratedImage, 'seed' | 'subseed' | 'prompt' | 'negativePrompt' | 'infotext'>;

/** 8-bit RGB of an RGB or RGBA image (the colour-correction reference). */
function rgbOf(image: { channels: number; data: Uint8Array }): Uint8Array {
  if (image.channels === 3) return image.data;
  const rgb = new Uint8Array((image.data.length / image.channels) * 3);
  for (let p = 0, q = 0; q < rgb.length; p += image.channels, q += 3) rgb.set(image.data.subarray(p, p + 3), q);
  return rgb;
}

/** One iteration: conditioning, seed noise, sampling, mask blend, decode, overlay. */
async function runIteration(
  job: Job,
  iteration: number,
  start: Omit<InitLatent, 'latent'>,
  onText: (textParams: Record<string, unknown>, warnings: readonly string[]) => void,
  onSampled: (keys: Record<string, unknown>, warnings: readonly string[]) => void,
): Promise<{ images: Pixelless[]; interrupted: boolean; masks: ReturnedImage[][] }> {
  const { model, params, hooks, latents, batchSize } = job;
  const range = [iteration * batchSize, (iteration + 1) * batchSize] as const;
  hooks.onProgress?.({ jobNo: iteration, jobCount: params.nIter, samplingStep: 0, samplingSteps: start.tEnc + 1 });
  const text = {
    prepared: job.sampling,
    prompts: job.prompts.slice(...range),
    negatives: job.negatives.slice(...range),
    options: params.options,
    steps: params.steps,
    micro: sdxlMicroConditioning(params),
  };
  const { cond, uncond, textParams, warnings } = await conditionBatch(model, job.sampling, text.prompts, text.negatives, params.options, params.steps, text.micro);
  onText(textParams, warnings);
  const rng = new ImageRNG({
    shape: latents.init.shape.slice(1),
    seeds: job.seeds.slice(...range),
    subseeds: job.subseeds.slice(...range),
    subseedStrength: params.subseedStrength,
    seedResizeFromH: params.seedResizeFromH,
    seedResizeFromW: params.seedResizeFromW,
    source: params.options.randn_source,
    etaNoiseSeedDelta: params.options.eta_noise_seed_delta,
  });
  let latent = latents.init;
  let interrupted = false;
  let decoder = model; // the refiner decodes once it took over (A1111 decodes with the loaded model)
  // A stretched schedule of 0 steps (img2img_fix_steps with strength 0) has nothing to sample.
  if (start.steps > 0) {
    const init: InitLatent = { ...start, latent: latents.init };
    const sampled = await runSampling(model, job.sampling, {
      cond,
      uncond,
      rng,
      params,
      hooks,
      iteration,
      init,
      imageCond: latents.imageCond,
      latentMask: latents.latentMask,
      control: controlHook(job.control, start.tEnc + 1),
      refiner: refinerSwitch(job.refiner, 'only', text, onSampled),
    });
    latent = sampled.latent;
    interrupted = sampled.interrupted;
    decoder = sampled.model;
  }
  if (latents.latentMask) latent = blendLatent(latent, latents.latentMask);
  const decoded = await decoder.decode(latent);
  const images: Pixelless[] = [];
  const masks: ReturnedImage[][] = [];
  for (let b = 0; b < batchSize; b++) {
    // The extension's post-processing (recolor units) runs on the decoded image, before the inpaint overlay.
    let out = pixels(decoded.shape[3], decoded.shape[2], 3, postProcessControl(job.control, toRgbBytes(decoded, b), decoded.shape[3], decoded.shape[2]));
    // A1111 img2img_color_correction: colours matched to the image that was encoded, before the overlay.
    const reference = params.options.img2img_color_correction ? (job.inputs.images[b] ?? job.inputs.images[0]) : null;
    if (reference) out = pixels(out.width, out.height, 3, applyColorCorrection(out.data, rgbOf(reference)));
    masks.push(await returnedMasks(out, job.inputs.maskForOverlay ?? null, job.inputs.pasteTo, params.options));
    const overlay = job.inputs.overlays?.[b];
    if (overlay) out = await applyOverlay(out, overlay, job.inputs.pasteTo);
    images.push({ width: out.width, height: out.height, rgb: out.data });
  }
  return { images, interrupted, masks };
}
