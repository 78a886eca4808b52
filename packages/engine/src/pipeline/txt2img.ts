/**
 * txt2img, unrolled as diffusers' pipelines are: seeds → conditioning → noise → sampling → VAE decode →
 * pixels and infotexts, one numbered step at a time, following A1111's processing order (spec §4.4).
 */
import { numpySeedFor } from '../image/shuffle.ts';
import { ImageRNG } from '../rng/image-rng.ts';
import { toRgbBytes } from '../image/convert.ts';
import { stripComments } from '../text/comments.ts';
import { controlHook, postProcessControl, prepareControl } from './control-units.ts';
import { hiresPass, hiresSize, planHires } from './hires.ts';
import { latentChannels, txt2imgConditioning } from './img2img-latents.ts';
import { createInfotext, type InfotextParams } from './infotext.ts';
import { hiresCheckpointModel } from './hires-checkpoint.ts';
import type { LoadedModel } from './model.ts';
import { withSdLora } from './networks.ts';
import { prepareRefiner, refinerSwitch } from './refiner-pass.ts';
import { conditionBatch, prepareSampling, runSampling } from './sample.ts';
import { sdxlMicroConditioning } from './sdxl-conditioning.ts';
import { allSeeds, jobTimestamp, resolveSeed } from './seeds.ts';
import type { GeneratedImage, GenerationHooks, Txt2ImgParams, Txt2ImgResult } from './types.ts';
import { validateTxt2Img } from './validate.ts';

/** The A1111 release whose semantics infotexts follow (see Txt2ImgParams.infotextVersion). */
export const INFOTEXT_VERSION = 'v1.10.1';

/**
 * Generates `batchSize × nIter` images from text.
 * @example
 * const model = LoadedModel.open('models/Stable-diffusion/v1-5.safetensors');
 * const result = await txt2img(model, { ...defaults, prompt: 'a cat', seed: 1, steps: 20 });
 */
export async function txt2img(model: LoadedModel, params: Txt2ImgParams, hooks: GenerationHooks = {}): Promise<Txt2ImgResult> {
  validateTxt2Img(params, model.config);
  model.tiling = params.tiling ?? false; // circular convolutions for this job (A1111 apply_circular)
  const timestamp = jobTimestamp();
  // 1. Seeds and prompts: one entry per image.
  const count = params.batchSize * params.nIter;
  const seed = resolveSeed(params.seed);
  const subseed = resolveSeed(params.subseed);
  const { seeds, subseeds } = allSeeds(seed, subseed, params.subseedStrength, count);
  const comments = params.options.enable_prompt_comments ?? true; // A1111's builtin Comments script, before the infotext
  // Option sd_lora appends its tag to every prompt (A1111 does it when activating the networks, so it is in all_prompts).
  const prompts = withSdLora(model, Array<string>(count).fill(comments ? stripComments(params.prompt) : params.prompt), params.options);
  const negatives = Array<string>(count).fill(comments ? stripComments(params.negativePrompt) : params.negativePrompt);
  // 2. Sampler, scheduler and sigma schedule (shared by every batch).
  const sampling = prepareSampling(model, params);
  // 2b. ControlNet units: control image → detected map → hint; their infotext keys come first (the extension
  // writes them in its process() step, before conditioning and sampling add theirs).
  // 2c. Hires fix: the second pass's plan; A1111's init() adds its keys after the scripts' process() (see below).
  const hires = params.hires ? planHires(model, params, prompts, negatives, sampling.extraGenerationParams['Schedule type']) : null;
  // hr_checkpoint_name: opened (or reused) now, so a checkpoint that cannot continue this one fails before sampling.
  const hiresModel = params.hires?.checkpoint ? await hiresCheckpointModel(model, params.hires.checkpoint.path) : null;
  const numpySeed = numpySeedFor(params.seed, params.subseed, seeds[0]); // the extension's set_numpy_seed (shuffle)
  const control = await prepareControl(model, params.controlNet, params, null, hires ? hiresSize(hires) : null, numpySeed);
  // 2d. Refiner: opened (or reused) now, so a checkpoint that cannot refine this one fails before any sampling.
  const refiner = await prepareRefiner(model, params);
  let extraGenerationParams: Record<string, unknown> = { ...control?.infotext, ...hires?.extra, ...sampling.extraGenerationParams };
  const infotextParams: InfotextParams = {
    allPrompts: prompts, allNegativePrompts: negatives, allSeeds: seeds, allSubseeds: subseeds,
    steps: params.steps, samplerName: sampling.samplerName, scheduler: sampling.schedulerLabel,
    cfgScale: params.cfgScale, width: params.width, height: params.height, batchSize: params.batchSize,
    sdModelName: model.name, sdModelHash: model.shortHash, subseedStrength: params.subseedStrength,
    sdVaeName: model.vae?.name ?? null, sdVaeHash: model.vae?.shortHash ?? null,
    seedResizeFromW: params.seedResizeFromW, seedResizeFromH: params.seedResizeFromH,
    clipSkip: params.options.CLIP_stop_at_last_layers, eta: params.eta, extraGenerationParams, tiling: params.tiling,
    isUsingInpaintingConditioning: model.config.unet.in_channels !== latentChannels(model),
  };
  const jobCount = params.nIter * (hires ? 2 : 1); // A1111 doubles job_count for the hires pass
  const images: GeneratedImage[] = [];
  let interrupted = false;
  const warnings = new Set<string>(); // per batch the same notes would repeat
  // Keys written during sampling (the refiner's switch, the hires pass's networks) join the job's infotext params.
  const addExtra = (extra: Record<string, unknown>, notes: readonly string[]) => {
    extraGenerationParams = { ...extraGenerationParams, ...extra };
    infotextParams.extraGenerationParams = extraGenerationParams;
    for (const w of notes) warnings.add(w);
  };
  for (let iteration = 0; iteration < params.nIter && !hooks.signal?.aborted; iteration++) {
    const range = [iteration * params.batchSize, (iteration + 1) * params.batchSize] as const;
    hooks.onProgress?.({ jobNo: iteration * (hires ? 2 : 1), jobCount, samplingStep: 0, samplingSteps: params.steps });
    // 3. Conditioning: prompt-editing schedules and AND parts for the prompts, schedules for the negatives.
    const micro = sdxlMicroConditioning(params);
    const text = { prepared: sampling, prompts: prompts.slice(...range), negatives: negatives.slice(...range), options: params.options, steps: params.steps, micro };
    const { cond, uncond, textParams, warnings: batchWarnings } = await conditionBatch(model, sampling, text.prompts, text.negatives, params.options, params.steps, micro);
    for (const w of batchWarnings) warnings.add(w);
    // The text side's keys (Lora hashes, TI hashes, Emphasis) come before the sampler's, as in A1111's infotexts.
    extraGenerationParams = { ...control?.infotext, ...hires?.extra, ...textParams, ...extraGenerationParams };
    infotextParams.extraGenerationParams = extraGenerationParams;
    // 4. Initial noise from each image's own seed; sampler noise continues the same generators.
    const rng = new ImageRNG({
      shape: [latentChannels(model), params.height / 8, params.width / 8], // A1111 opt_C: 4 even for 9-channel UNets
      seeds: seeds.slice(...range), subseeds: subseeds.slice(...range), subseedStrength: params.subseedStrength,
      seedResizeFromH: params.seedResizeFromH, seedResizeFromW: params.seedResizeFromW,
      source: params.options.randn_source, etaNoiseSeedDelta: params.options.eta_noise_seed_delta,
    });
    // 5. Sampling (an interrupt or skip returns the last denoised latent, as A1111 does).
    // Inpainting checkpoints get A1111's txt2img c_concat: an all-ones mask and the latent of a mid-grey image.
    const imageCond = infotextParams.isUsingInpaintingConditioning ? await txt2imgConditioning(model, params.batchSize, params.height, params.width) : null;
    const job = { no: iteration * (hires ? 2 : 1), count: jobCount };
    // Each iteration starts on the base model (A1111 reloads it: "model can be changed for example by refiner").
    const refinerNow = refinerSwitch(refiner, hires ? 'first' : 'only', text, addExtra);
    let sampled = await runSampling(model, sampling, { cond, uncond, rng, params, hooks, iteration, control: controlHook(control, params.steps, hires ? 'low' : 'only'), imageCond, job, refiner: refinerNow });
    // 5b. Hires fix: upscale and re-run the tail of the schedule at the target size (A1111 reloads the base first).
    if (hires && !sampled.interrupted) {
      const batch = { latent: sampled.latent, seeds: seeds.slice(...range), subseeds: subseeds.slice(...range), range, iteration, hooks };
      sampled = await hiresPass(model, hires, batch, { refiner, onExtra: addExtra, loraHashes: extraGenerationParams['Lora hashes'], control, checkpointModel: hiresModel });
    }
    interrupted ||= sampled.interrupted;
    // 6. VAE decode (by the model that sampled last, as A1111's loaded model) and A1111's pixel conversion; 7. infotexts.
    const decoded = await sampled.model.decode(sampled.latent);
    for (let b = 0; b < params.batchSize; b++) {
      const index = range[0] + b;
      const infotext = createInfotext(infotextParams, { iteration, positionInBatch: b, options: params.options, version: params.infotextVersion === undefined ? INFOTEXT_VERSION : params.infotextVersion });
      images.push({ width: decoded.shape[3], height: decoded.shape[2], rgb: postProcessControl(control, toRgbBytes(decoded, b), decoded.shape[3], decoded.shape[2], hires !== null), seed: seeds[index], subseed: subseeds[index], prompt: prompts[index], negativePrompt: negatives[index], infotext });
    }
  }
  return {
    images, allPrompts: prompts, allNegativePrompts: negatives, allSeeds: seeds, allSubseeds: subseeds,
    samplerName: sampling.samplerName, scheduler: sampling.schedulerLabel, clipSkip: params.options.CLIP_stop_at_last_layers,
    sdModelName: model.name, sdModelHash: model.shortHash, extraGenerationParams,
    sdVaeName: model.vae?.name ?? null, sdVaeHash: model.vae?.shortHash ?? null,
    jobTimestamp: timestamp, interrupted,
    width: params.width, height: params.height, batchSize: params.batchSize, denoisingStrength: params.denoisingStrength ?? null,
    isUsingInpaintingConditioning: infotextParams.isUsingInpaintingConditioning,
    ...(warnings.size > 0 ? { warnings: [...warnings] } : {}),
    ...(control && control.detectedMaps.length > 0 ? { detectedMaps: control.detectedMaps.map((m) => ({ width: m.width, height: m.height, rgb: m.data })) } : {}),
  };
}
