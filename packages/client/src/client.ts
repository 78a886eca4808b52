/**
 * SDClient: a typed fetch wrapper for any AUTOMATIC1111-compatible `/sdapi/v1` server (sdapi or A1111 itself),
 * in openai-node's style: resources, typed errors, timeouts, retries with backoff, `.withResponse()`.
 * Every core method is one plain A1111 route with A1111's body; the helpers below them (inpaint, setModel,
 * generate, …) are built only from those calls, so they work against A1111 too.
 * Uses only `fetch`, `AbortSignal`, `atob`/`btoa`: runs in browsers, Deno, Bun, Workers and Node.
 */
import type {
  ExtrasBatchImagesRequest,
  ExtrasBatchImagesResponse,
  ExtrasSingleImageRequest,
  ExtrasSingleImageResponse,
  Img2ImgRequest,
  Img2ImgResponse,
  InterrogateRequest,
  InterrogateResponse,
  PNGInfoRequest,
  PNGInfoResponse,
  Txt2ImgRequest,
  Txt2ImgResponse,
} from '@sdapi/protocol';
import { APIPromise } from './core/api-promise.ts';
import { encodeBase64Utf8 } from './internal/base64.ts';
import { type FinalRequest, parseJson, type RequestOptions, sendRequest, type TransportConfig } from './internal/request.ts';
import { type GenerateEvent, type GenerateOptions, generateWithProgress } from './lib/generate.ts';
import type { ImageInput } from './lib/images.ts';
import { currentModel, type ModelChoice, modelNames, samplerNames, schedulerNames, setModel, type WaitForReadyOptions, waitForReady } from './lib/models.ts';
import {
  type ExtrasInput,
  extraBatchImagesRequest,
  extraSingleImageRequest,
  type Img2ImgInput,
  type InpaintInput,
  img2imgRequest,
  inpaintRequest,
  pngInfoRequest,
} from './lib/requests.ts';
import { CmdFlagsResource } from './resources/cmd-flags.ts';
import { ControlNetResource } from './resources/controlnet.ts';
import { EmbeddingsResource } from './resources/embeddings.ts';
import { ExtensionsResource } from './resources/extensions.ts';
import { FaceRestorersResource } from './resources/face-restorers.ts';
import { HypernetworksResource } from './resources/hypernetworks.ts';
import { JobsResource } from './resources/jobs.ts';
import { LatentUpscaleModesResource } from './resources/latent-upscale-modes.ts';
import { LorasResource } from './resources/loras.ts';
import { MemoryResource } from './resources/memory.ts';
import { OptionsResource } from './resources/options.ts';
import { ProgressResource } from './resources/progress.ts';
import { PromptStylesResource } from './resources/prompt-styles.ts';
import { RealesrganModelsResource } from './resources/realesrgan-models.ts';
import { SamplersResource } from './resources/samplers.ts';
import { SchedulersResource } from './resources/schedulers.ts';
import { ScriptInfoResource } from './resources/script-info.ts';
import { ScriptsResource } from './resources/scripts.ts';
import { SdModelsResource } from './resources/sd-models.ts';
import { SdVaeResource } from './resources/sd-vae.ts';
import { UpscalersResource } from './resources/upscalers.ts';

export type { RequestOptions } from './internal/request.ts';

export interface ClientOptions {
  /**
   * Server root, e.g. `http://127.0.0.1:7860` (with A1111's `--subpath`, include it). A trailing `/sdapi/v1`
   * (webuiapi's `baseurl`) is accepted and removed. Default: built from host/port/https.
   */
  baseURL?: string;
  /** Used when baseURL is absent (webuiapi's defaults: 127.0.0.1, 7860, http). */
  host?: string;
  port?: number;
  https?: boolean;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Milliseconds per attempt before APIConnectionTimeoutError (default 10 minutes: generations are slow). */
  timeout?: number;
  /** Retries after the first attempt (default 2). */
  maxRetries?: number;
  /** HTTP Basic credentials, as for A1111 `--api-auth` (webuiapi's username/password). */
  auth?: { username: string; password: string };
  /** Headers sent with every request. */
  defaultHeaders?: Record<string, string>;
}

type Call = Omit<FinalRequest, 'method' | 'path'>;

/**
 * @example
 * const sd = new SDClient({ baseURL: 'http://127.0.0.1:7860' });
 * const { images, info } = await sd.txt2img({ prompt: 'a cat', steps: 20, sampler_name: 'Euler a', seed: 1 });
 */
export class SDClient {
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly options = new OptionsResource(this);
  readonly cmdFlags = new CmdFlagsResource(this);
  readonly sdModels = new SdModelsResource(this);
  readonly samplers = new SamplersResource(this);
  readonly schedulers = new SchedulersResource(this);
  readonly upscalers = new UpscalersResource(this);
  readonly latentUpscaleModes = new LatentUpscaleModesResource(this);
  readonly sdVae = new SdVaeResource(this);
  readonly hypernetworks = new HypernetworksResource(this);
  readonly faceRestorers = new FaceRestorersResource(this);
  readonly realesrganModels = new RealesrganModelsResource(this);
  readonly promptStyles = new PromptStylesResource(this);
  readonly embeddings = new EmbeddingsResource(this);
  readonly loras = new LorasResource(this);
  readonly memory = new MemoryResource(this);
  readonly progress = new ProgressResource(this);
  /** sdapi's async jobs API (`/sdapi/v2/jobs`, not in A1111). */
  readonly jobs = new JobsResource(this);
  readonly scripts = new ScriptsResource(this);
  readonly scriptInfo = new ScriptInfoResource(this);
  readonly extensions = new ExtensionsResource(this);
  /** The sd-webui-controlnet extension's own routes (`/controlnet/*`, present only with the extension). */
  readonly controlnet = new ControlNetResource(this);
  private readonly transport: TransportConfig;

  constructor(opts: ClientOptions = {}) {
    this.baseURL = resolveBaseURL(opts);
    this.timeout = opts.timeout ?? 10 * 60_000;
    this.maxRetries = opts.maxRetries ?? 2;
    const fetchImpl = opts.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.transport = {
      baseURL: this.baseURL,
      fetch: fetchImpl,
      headers: { accept: 'application/json', ...opts.defaultHeaders },
      timeout: this.timeout,
      maxRetries: this.maxRetries,
    };
    if (opts.auth) this.setAuth(opts.auth.username, opts.auth.password);
  }

  /** Sets HTTP Basic credentials for the following calls (webuiapi's `set_auth`). */
  setAuth(username: string, password: string): void {
    this.transport.headers.authorization = `Basic ${encodeBase64Utf8(`${username}:${password}`)}`;
  }

  // ---- generation and image routes (POSTs that are retried only when the server surely did not start them) ----

  /** POST /sdapi/v1/txt2img. */
  txt2img(body: Txt2ImgRequest, options?: RequestOptions): APIPromise<Txt2ImgResponse> {
    return this.post('/sdapi/v1/txt2img', { body, ...options, retry: 'once' });
  }

  /** POST /sdapi/v1/img2img. `init_images` are base64 strings or data URLs (see `img2imgFrom` for bytes/Blobs). */
  img2img(body: Img2ImgRequest, options?: RequestOptions): APIPromise<Img2ImgResponse> {
    return this.post('/sdapi/v1/img2img', { body, ...options, retry: 'once' });
  }

  /** POST /sdapi/v1/extra-single-image: upscale / restore faces of one image → `{html_info, image}`. */
  extraSingleImage(body: ExtrasSingleImageRequest, options?: RequestOptions): APIPromise<ExtrasSingleImageResponse> {
    return this.post('/sdapi/v1/extra-single-image', { body, ...options, retry: 'once' });
  }

  /** POST /sdapi/v1/extra-batch-images: the same for `imageList: [{data, name}]` → `{html_info, images}`. */
  extraBatchImages(body: ExtrasBatchImagesRequest, options?: RequestOptions): APIPromise<ExtrasBatchImagesResponse> {
    return this.post('/sdapi/v1/extra-batch-images', { body, ...options, retry: 'once' });
  }

  /** POST /sdapi/v1/png-info: the infotext of an image and its parsed `parameters`. */
  pngInfo(body: PNGInfoRequest, options?: RequestOptions): APIPromise<PNGInfoResponse> {
    return this.post('/sdapi/v1/png-info', { body, ...options, retry: 'once' });
  }

  /** POST /sdapi/v1/interrogate: a caption (`model` "clip") or tags ("deepdanbooru"). */
  interrogate(body: InterrogateRequest, options?: RequestOptions): APIPromise<InterrogateResponse> {
    return this.post('/sdapi/v1/interrogate', { body, ...options, retry: 'once' });
  }

  // ---- control routes (no body; safe to repeat) ----

  /** POST /sdapi/v1/interrupt: stops the running job; its partial images are still returned to its caller. */
  interrupt(options?: RequestOptions): APIPromise<Record<string, never>> {
    return this.post('/sdapi/v1/interrupt', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/skip: ends the running batch early; the next batch continues. */
  skip(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/skip', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/refresh-checkpoints: rescan the checkpoint folders. */
  refreshCheckpoints(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/refresh-checkpoints', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/refresh-vae: rescan the VAE folders. */
  refreshVae(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/refresh-vae', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/refresh-loras: rescan the LoRA folders. */
  refreshLoras(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/refresh-loras', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/refresh-embeddings: reload textual-inversion embeddings from disk. */
  refreshEmbeddings(options?: RequestOptions): APIPromise<null> {
    return this.post('/sdapi/v1/refresh-embeddings', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/unload-checkpoint: free the loaded model (the next generation reloads it). */
  unloadCheckpoint(options?: RequestOptions): APIPromise<Record<string, never>> {
    return this.post('/sdapi/v1/unload-checkpoint', { ...options, retry: 'idempotent' });
  }

  /** POST /sdapi/v1/reload-checkpoint: move the current model back to the compute device. */
  reloadCheckpoint(options?: RequestOptions): APIPromise<Record<string, never>> {
    return this.post('/sdapi/v1/reload-checkpoint', { ...options, retry: 'idempotent' });
  }

  // ---- helpers over the routes above (webuiapi's conveniences) ----

  /** img2img from bytes, Blobs, base64 or data URLs (sent as `data:image/png;base64,` URLs, as webuiapi does). */
  img2imgFrom(input: Img2ImgInput, options?: RequestOptions): APIPromise<Img2ImgResponse> {
    return this.request({ method: 'POST', path: '/sdapi/v1/img2img', body: img2imgRequest(input), ...options, retry: 'once' });
  }

  /**
   * Inpainting: img2img with `image` and a `mask` (white = repaint).
   * @example const { images } = await sd.inpaint({ image: png, mask: maskPng, prompt: 'a red hat', denoising_strength: 0.8 });
   */
  inpaint(input: InpaintInput, options?: RequestOptions): APIPromise<Img2ImgResponse> {
    return this.request({ method: 'POST', path: '/sdapi/v1/img2img', body: inpaintRequest(input), ...options, retry: 'once' });
  }

  /** extra-single-image from bytes/Blob/base64 (`upscaler_1`, `upscaling_resize`, … as in A1111). */
  upscale(image: ImageInput, fields: ExtrasInput = {}, options?: RequestOptions): APIPromise<ExtrasSingleImageResponse> {
    return this.request({ method: 'POST', path: '/sdapi/v1/extra-single-image', body: extraSingleImageRequest(image, fields), ...options, retry: 'once' });
  }

  /** extra-batch-images from several images; names default to `image00001`, … (webuiapi's). */
  upscaleBatch(images: ImageInput[], fields: ExtrasInput & { names?: string[] } = {}, options?: RequestOptions): APIPromise<ExtrasBatchImagesResponse> {
    return this.request({ method: 'POST', path: '/sdapi/v1/extra-batch-images', body: extraBatchImagesRequest(images, fields), ...options, retry: 'once' });
  }

  /** png-info from bytes/Blob/base64. */
  pngInfoFrom(image: ImageInput, options?: RequestOptions): APIPromise<PNGInfoResponse> {
    return this.request({ method: 'POST', path: '/sdapi/v1/png-info', body: pngInfoRequest(image), ...options, retry: 'once' });
  }

  /** Switches the checkpoint by title, name or the closest title (webuiapi `util_set_model`); resolves to the title used. */
  setModel(name: string, choice?: ModelChoice): Promise<string> {
    return setModel(this, name, choice);
  }

  /** The loaded checkpoint's title (webuiapi `util_get_current_model`), or null when none is loaded. */
  currentModel(): Promise<string | null> {
    return currentModel(this);
  }

  /** Sorted checkpoint titles, sampler names, scheduler names (webuiapi `util_get_*_names`). */
  modelNames(): Promise<string[]> {
    return modelNames(this);
  }

  samplerNames(): Promise<string[]> {
    return samplerNames(this);
  }

  schedulerNames(): Promise<string[]> {
    return schedulerNames(this);
  }

  /** Resolves once the server is idle (`progress` 0 and no job), polling /progress (webuiapi `util_wait_for_ready`). */
  waitForReady(opts?: WaitForReadyOptions): Promise<void> {
    return waitForReady(this, opts);
  }

  /**
   * Runs txt2img (or img2img) and yields `progress` events while it runs, then one `result` event.
   * @example for await (const e of sd.generate('txt2img', { prompt: 'a cat', steps: 20 })) if (e.type === 'progress') console.log(e.progress);
   */
  generate(kind: 'txt2img', body: Txt2ImgRequest, opts?: GenerateOptions): AsyncGenerator<GenerateEvent<Txt2ImgResponse>, void, undefined>;
  generate(kind: 'img2img', body: Img2ImgRequest, opts?: GenerateOptions): AsyncGenerator<GenerateEvent<Img2ImgResponse>, void, undefined>;
  generate(
    kind: 'txt2img' | 'img2img',
    body: Txt2ImgRequest | Img2ImgRequest,
    opts: GenerateOptions = {},
  ): AsyncGenerator<GenerateEvent<Txt2ImgResponse>, void, undefined> {
    const start = (signal: AbortSignal) =>
      kind === 'txt2img' ? this.txt2img(body as Txt2ImgRequest, { signal }) : this.img2img(body as Img2ImgRequest, { signal });
    return generateWithProgress(this, start, opts);
  }

  // ---- raw access (webuiapi's custom_get / custom_post): paths are relative to the server root ----

  get<T>(path: string, options: Omit<Call, 'retry'> = {}): APIPromise<T> {
    return this.request<T>({ ...options, method: 'GET', path, retry: 'idempotent' });
  }

  /** A POST; retried like a generation unless `retry: 'idempotent'` is passed. */
  post<T>(path: string, options: Omit<Call, 'retry'> & { retry?: FinalRequest['retry'] } = {}): APIPromise<T> {
    return this.request<T>({ retry: 'once', ...options, method: 'POST', path });
  }

  delete<T>(path: string, options: Omit<Call, 'retry'> = {}): APIPromise<T> {
    return this.request<T>({ ...options, method: 'DELETE', path, retry: 'idempotent' });
  }

  /** One request; `body` may be a promise (helpers that read Blobs build it asynchronously). */
  request<T>(req: FinalRequest): APIPromise<T> {
    const body = req.body as PromiseLike<unknown> | undefined;
    // A plain body goes out at once (fetch is called synchronously); a promised one once it is ready.
    const response =
      typeof body?.then === 'function' ? Promise.resolve(body).then((b) => sendRequest(this.transport, { ...req, body: b })) : sendRequest(this.transport, req);
    return new APIPromise<T>(response, parseJson<T>);
  }
}

function resolveBaseURL(opts: ClientOptions): string {
  const base = opts.baseURL ?? `${opts.https ? 'https' : 'http'}://${opts.host ?? '127.0.0.1'}:${opts.port ?? 7860}`;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new TypeError(`SDClient: baseURL must be an absolute http(s) URL such as "http://127.0.0.1:7860", got "${base}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`SDClient: baseURL must use http or https, got "${base}"`);
  return base.replace(/\/+$/, '').replace(/\/sdapi\/v1$/, '');
}
