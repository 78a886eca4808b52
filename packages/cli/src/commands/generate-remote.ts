/**
 * `sdapi generate --remote URL`: the same flags sent to a running server as A1111 txt2img/img2img bodies through
 * @sdapi/client, with a progress bar from /progress polling. The PNGs are written as the server encoded them
 * (its infotext included). Ctrl-C interrupts the server's job and exits 130.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeImage, type Img2ImgRequest, INPAINTING_FILL, parseInfo, type SDClient, type Txt2ImgRequest } from '@sdapi/client';
import { CliError, EXIT, printJson } from '../output.ts';
import { ProgressBar } from '../progress-bar.ts';
import { generateViaJob, type JobRequest } from './generate-job.ts';
import { remoteClient } from '../remote.ts';
import { type GenerateValues, num, outputPath } from './generate.ts';

/** The txt2img fields every generation sends (A1111 wire names). */
function txt2imgBody(values: GenerateValues): Txt2ImgRequest {
  return {
    prompt: values.prompt,
    negative_prompt: values['negative-prompt'],
    seed: num(values, 'seed'),
    steps: num(values, 'steps'),
    width: num(values, 'width'),
    height: num(values, 'height'),
    sampler_name: values.sampler,
    scheduler: values.scheduler,
    cfg_scale: num(values, 'cfg-scale'),
    batch_size: num(values, 'batch-size'),
    n_iter: num(values, 'n-iter'),
    override_settings: { CLIP_stop_at_last_layers: num(values, 'clip-skip'), randn_source: values.rng.toUpperCase() },
  };
}

/** img2img adds the init images (data URLs, as webuiapi sends) and the inpainting fields that were given. */
function img2imgBody(values: GenerateValues, initImages: string[]): Img2ImgRequest {
  // The shared fields have the same names and types in both A1111 request models.
  const body: Img2ImgRequest = { ...(txt2imgBody(values) as Img2ImgRequest), init_images: initImages.map(readDataURL) };
  if (values['denoising-strength'] !== undefined) body.denoising_strength = num(values, 'denoising-strength');
  if (values.mask) body.mask = readDataURL(values.mask);
  if (values['mask-blur'] !== undefined) body.mask_blur = num(values, 'mask-blur');
  if (values['resize-mode'] !== undefined) body.resize_mode = num(values, 'resize-mode');
  if (values['inpaint-full-res']) body.inpaint_full_res = true;
  if (values['inpainting-fill'] !== undefined) {
    const fill = INPAINTING_FILL[values['inpainting-fill'].replace('-', ' ') as keyof typeof INPAINTING_FILL];
    if (fill === undefined) throw new CliError(`--inpainting-fill must be fill, original, latent-noise or latent-nothing, got '${values['inpainting-fill']}'`);
    body.inpainting_fill = fill;
  }
  return body;
}

/** The --hires-* flags as A1111's hires-fix fields (any of them enables it; denoising 0.7 as A1111's UI). */
function withHires(values: GenerateValues, body: Txt2ImgRequest): Txt2ImgRequest {
  if (values['hires-scale'] === undefined && values['hires-steps'] === undefined && values['hires-upscaler'] === undefined) return body;
  const hires: Txt2ImgRequest = {
    ...body,
    enable_hr: true,
    denoising_strength: values['denoising-strength'] === undefined ? 0.7 : num(values, 'denoising-strength'),
  };
  if (values['hires-scale'] !== undefined) hires.hr_scale = num(values, 'hires-scale');
  if (values['hires-steps'] !== undefined) hires.hr_second_pass_steps = num(values, 'hires-steps');
  if (values['hires-upscaler'] !== undefined) hires.hr_upscaler = values['hires-upscaler'];
  return hires;
}

function readDataURL(path: string): string {
  return `data:image/png;base64,${readFileSync(path).toString('base64')}`;
}

export async function generateRemote(url: string, values: GenerateValues): Promise<number> {
  const client = remoteClient(url, values);
  const init = values['init-image'];
  if (values.mask && !init) throw new CliError('--mask needs --init-image (the picture to inpaint)');
  const bar = new ProgressBar(process.stderr, Boolean(process.stderr.isTTY) && !values.quiet && !values.json);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const request: JobRequest = init ? { type: 'img2img', body: img2imgBody(values, init) } : { type: 'txt2img', body: withHires(values, txt2imgBody(values)) };
    // sdapi servers: a v2 job whose own events drive the bar; A1111 (no jobs API): polling /progress below.
    const viaJob = await generateViaJob(client, request, bar, controller.signal);
    if (viaJob === 'interrupted') return interruptedJob();
    if (viaJob) return writeResult(values, viaJob.images, viaJob.info);
    const events =
      request.type === 'img2img'
        ? client.generate('img2img', request.body, { signal: controller.signal, interval: 500 })
        : client.generate('txt2img', request.body, { signal: controller.signal, interval: 500 });
    for await (const e of events) {
      if (e.type === 'progress') {
        bar.update({
          fraction: e.progress,
          step: e.state.sampling_step,
          steps: e.state.sampling_steps,
          job: e.state.job_no,
          jobs: e.state.job_count,
          etaSeconds: e.eta_relative,
        });
        continue;
      }
      bar.done();
      return writeResult(values, e.result.images ?? [], e.result.info);
    }
    return EXIT.INTERNAL; // unreachable: generate() always ends with a result or throws
  } catch (error) {
    bar.done();
    if (controller.signal.aborted) return interrupted(client);
    throw error;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

function writeResult(values: GenerateValues, images: string[], info: string): number {
  const parsed = parseInfo(info);
  const written = images.map((b64, i) => {
    const path = outputPath(values.output as string, i, images.length);
    writeFileSync(path, decodeImage(b64));
    return { path, seed: parsed.all_seeds?.[i] ?? parsed.seed, subseed: parsed.all_subseeds?.[i], infotext: parsed.infotexts?.[i] ?? null };
  });
  if (values.json) printJson({ images: written, info: parsed });
  else for (const w of written) console.log(`${w.path}  seed ${w.seed}`);
  return EXIT.OK;
}

function interruptedJob(): number {
  console.error('interrupted: cancelled the job on the server');
  return EXIT.INTERRUPTED;
}

async function interrupted(client: SDClient): Promise<number> {
  await client.interrupt({ maxRetries: 0, timeout: 5000 }).catch(() => undefined);
  console.error('interrupted: asked the server to stop the job');
  return EXIT.INTERRUPTED;
}
