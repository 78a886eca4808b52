/**
 * The server's application service: the one object routes talk to. It wires the Generator, the generation queue,
 * the options store and the sampler catalog, and holds the A1111 rules that span them (which checkpoint a job
 * runs on, how overrides live and die). No HTTP here.
 */
import type { EmbeddingInfo as EngineEmbeddingInfo, GenerationHooks, Txt2ImgResult } from '@sdapi/engine';
import { encodePng, type GenerationProgress, type Img2ImgResult } from '@sdapi/engine';
import type { EmbeddingItem, EmbeddingsResponse, Img2ImgRequest, JobType, LoraList, ProgressResponse, SDModelItem, Txt2ImgRequest } from '@sdapi/protocol';
import type { Catalog } from './catalog.ts';
import { checkpointTitle, findCheckpoint, toSdModelItem } from './checkpoints.ts';
import { ApiError } from './errors.ts';
import type { GenerationQueue } from './generation-queue.ts';
import type { CheckpointFile, Generator } from './generator.ts';
import { withHiresCheckpoint } from './hires-checkpoint.ts';
import type { Img2ImgJob } from './img2img-mapping.ts';
import type { InfotextContext } from './infotext-request.ts';
import { EmbeddedJobStore } from './jobs/embedded-store.ts';
import { extrasKind } from './jobs/extras-kind.ts';
import { type ClusterQueue, type JobHandle, JobService } from './jobs/job-service.ts';
import { type Img2ImgPrepared, img2imgKind, type JobKind, providedSubset, type Txt2ImgPrepared, txt2imgKind } from './jobs/kinds.ts';
import type { JobStore, RetentionPolicy } from './jobs/types.ts';
import type { WebhookSender } from './jobs/webhooks.ts';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.ts';
import { LivePreview, previewOf } from './live-preview.ts';
import type { Txt2ImgJob } from './mapping.ts';
import type { OptionsStore } from './options-store.ts';
import { type RefinerRequest, resolveRefiner } from './refiner.ts';
import type { ScriptExecutor } from './scripts/types.ts';
import { PromptStyles } from './styles.ts';
import { type ModelUpscalers, modelUpscalers } from './upscalers.ts';
import { checkVaeName, listVaeFiles, type VaeFile, vaeDirsFromFlags } from './vae-files.ts';

export interface SdServiceDeps {
  generator: Generator;
  queue: GenerationQueue;
  options: OptionsStore;
  catalog: Catalog;
  /** Written as `Version:` in infotexts and `info.version`. */
  version: string | null;
  /** The GET /cmd-flags body. */
  cmdFlags: Record<string, unknown>;
  /** styles.csv files (default: none). */
  styles?: PromptStyles;
  /** The request limits in force (`--max-*`, resolveLimits in app.ts; default DEFAULT_LIMITS). */
  limits?: RequestLimits;
  /** Where jobs live (default: in memory) and how long finished ones are kept. */
  jobs?: { store?: JobStore; retention?: RetentionPolicy; webhooks?: WebhookSender; log?: (line: string) => void; cluster?: ClusterQueue };
  /** A cluster's settings in Redis (jobs/redis/shared-options.ts); `runsJobs` false on an API-only node. */
  sharedOptions?: SharedSettings;
}

/** What SdService needs of the cluster's shared settings (jobs/redis/shared-options.ts). */
export interface SharedSettings {
  publish(values: Record<string, unknown>): Promise<void>;
  refresh(): Promise<void>;
  /** Throws the 503 while Redis is away. */
  assertAvailable(): void;
  /** false on an API-only node: a checkpoint chosen there is recorded for the workers, not loaded. */
  runsJobs: boolean;
}

export class SdService {
  readonly generator: Generator;
  readonly queue: GenerationQueue;
  readonly options: OptionsStore;
  readonly catalog: Catalog;
  readonly version: string | null;
  readonly cmdFlags: Record<string, unknown>;
  /** The style files: GET /prompt-styles, and the request's `styles` merged into the prompts before generating. */
  readonly styles: PromptStyles;
  /** Every generation is a job in `queue` (services/jobs). */
  readonly jobs: JobService;
  /** GET /progress `current_image`: the running job's latent preview. */
  readonly preview: LivePreview;
  /** The app's request limits: `maxImagePixels` reaches every decoded request image (image-input.ts). */
  readonly limits: RequestLimits;
  /** The model upscalers (ESRGAN files) Extras may name, run by the generator with the ESRGAN_tile options. */
  readonly upscalers: ModelUpscalers;
  private readonly sharedOptions: SharedSettings | undefined;
  private readonly jobsLog: ((line: string) => void) | undefined;

  constructor(deps: SdServiceDeps) {
    this.generator = deps.generator;
    this.queue = deps.queue;
    this.options = deps.options;
    this.catalog = { ...deps.catalog, modelUpscalers: () => this.upscalers.names() };
    this.version = deps.version;
    this.preview = new LivePreview(this.options);
    this.cmdFlags = deps.cmdFlags;
    this.styles = deps.styles ?? new PromptStyles([]);
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    this.sharedOptions = deps.sharedOptions;
    this.jobsLog = deps.jobs?.log;
    this.upscalers = modelUpscalers(this.generator, () => this.options.effective());
    this.jobs = new JobService({
      store: deps.jobs?.store ?? new EmbeddedJobStore(),
      queue: this.queue,
      kinds: this.jobKinds(),
      retention: deps.jobs?.retention,
      webhooks: deps.jobs?.webhooks,
      log: deps.jobs?.log,
      cluster: deps.jobs?.cluster,
      preview: latentPreview,
    });
  }

  /** The job types this server can run: txt2img, extras, and img2img when the generator has it. */
  private jobKinds(): Partial<Record<JobType, JobKind>> {
    const common = {
      catalog: this.catalog,
      options: this.options,
      version: this.version,
      loadedTitle: () => {
        const current = this.generator.currentCheckpoint();
        return current ? checkpointTitle(current) : null;
      },
      keptOptions: (values: Record<string, unknown>) =>
        void this.sharedOptions?.publish(values).catch((error: Error) => this.jobsLog?.(`settings kept by a job not shared: ${error.message}`)),
    };
    const txt2img = txt2imgKind({ ...common, run: (job, hooks) => this.runTxt2img(job, this.preview.track(hooks)) });
    // Tracked like generations, so /progress shows no stale preview of an earlier job while extras run.
    const track = (hooks: GenerationHooks) => this.preview.track(hooks);
    const max = this.limits.maxImagePixels;
    const extras = {
      'extra-single-image': extrasKind(false, this.options, max, track, this.upscalers),
      'extra-batch-images': extrasKind(true, this.options, max, track, this.upscalers),
    };
    if (!this.generator.img2img) return { txt2img, ...extras };
    return { txt2img, img2img: img2imgKind({ ...common, run: (job, hooks) => this.runImg2img(job, this.preview.track(hooks)) }), ...extras };
  }

  /**
   * Queues a txt2img job from the A1111 route: `request` as the client sent it (stored), `prepared` as the route
   * mapped it; `force_task_id` names the job. Await `done` for the engine result.
   */
  submitTxt2img(request: Txt2ImgRequest, prepared: Txt2ImgPrepared): Promise<JobHandle<Txt2ImgResult>> {
    this.checkVaeOverride(request.override_settings);
    return this.jobs.submit<Txt2ImgResult>({ type: 'txt2img', request: providedSubset(request), prepared, id: request.force_task_id, source: 'sdapi' });
  }

  /** Queues a txt2img job and waits for its result (the A1111 route without the job id). */
  async txt2img(body: Txt2ImgRequest, job: Txt2ImgJob): Promise<Txt2ImgResult> {
    const handle = await this.submitTxt2img(body, { body, job });
    return (await handle.done).output;
  }

  /** Queues an img2img job from the A1111 route (see submitTxt2img). */
  submitImg2img(request: Img2ImgRequest, prepared: Img2ImgPrepared): Promise<JobHandle<Img2ImgResult>> {
    this.checkVaeOverride(request.override_settings);
    return this.jobs.submit<Img2ImgResult>({ type: 'img2img', request: providedSubset(request), prepared, id: request.force_task_id, source: 'sdapi' });
  }

  /** Inside the queue: the right checkpoint is loaded first (§4.3, §9.5), then the engine runs. */
  private async runTxt2img(job: Txt2ImgJob, hooks: GenerationHooks): Promise<Txt2ImgResult> {
    // A selected script (services/scripts) runs the whole job: all its generations inside this one queue job.
    if (job.script) return job.script.run(this.scriptExecutor(job.refiner), hooks);
    await this.ensureCheckpoint(job.checkpointOverride);
    const refiner = await resolveRefiner(this.generator, job.refiner);
    const params = await withHiresCheckpoint(this.generator, job.params, job.hrCheckpoint);
    // Styles first (spec §6.1): `all_prompts` and the infotext carry the styled prompts, as A1111's do.
    return this.generator.txt2img({ ...this.styles.apply(params), infotextVersion: this.version, ...(refiner ? { refiner } : {}) }, hooks);
  }

  /**
   * GET /embeddings: as the loaded model sees them. A1111 always has a model loaded; the width check needs one,
   * so the default checkpoint is loaded first (under the queue lock) when none is.
   */
  async embeddings(): Promise<EmbeddingsResponse> {
    const { listEmbeddings } = this.generator;
    if (!listEmbeddings) return { loaded: {}, skipped: {} };
    if (!this.generator.currentCheckpoint()) await this.queue.exclusive(() => this.ensureCheckpoint(null));
    const { loaded, skipped } = await listEmbeddings.call(this.generator);
    const wire = (items: ReadonlyMap<string, EngineEmbeddingInfo>) =>
      Object.fromEntries([...items].map(([name, info]): [string, EmbeddingItem] => [name, toEmbeddingItem(info)]));
    return { loaded: wire(loaded), skipped: wire(skipped) };
  }

  /** POST /refresh-embeddings: a forced reload under the queue lock (A1111 takes it too). */
  async refreshEmbeddings(): Promise<void> {
    await this.queue.exclusive(async () => await this.generator.refreshEmbeddings?.());
  }

  /** GET /loras: the LoRA/LyCORIS files found (A1111 shape; `error` for a file that cannot be applied). */
  loras(): LoraList {
    return this.generator.listLoras?.() ?? [];
  }

  /** POST /refresh-loras: rescans the folders (A1111 does it without the queue lock; jobs keep what they loaded). */
  refreshLoras(): void {
    this.generator.refreshLoras?.();
  }

  async listModels(): Promise<SDModelItem[]> {
    return (await this.generator.listCheckpoints()).map(toSdModelItem);
  }

  /** GET /options: the store's body with the loaded checkpoint's title and hash (A1111 sets them on load). */
  optionsBody(): Record<string, unknown> {
    const current = this.generator.currentCheckpoint();
    const overlay: Record<string, unknown> = {};
    if (current) overlay.sd_model_checkpoint = checkpointTitle(current);
    if (current?.sha256) overlay.sd_checkpoint_hash = current.sha256;
    return this.options.responseBody(overlay);
  }

  /** GET /options in a cluster: the cluster's settings first (a Redis outage leaves this node's as they are). */
  async refreshOptions(): Promise<void> {
    await this.sharedOptions?.refresh().catch(() => undefined);
  }

  /**
   * POST /options; a checkpoint change loads the model inside the queue, after the running job (§1.7). In a cluster
   * the changed keys go to every node (an API-only node records the checkpoint; workers load it for their next job).
   */
  async updateOptions(body: Record<string, unknown>): Promise<void> {
    if (Object.hasOwn(body, 'sd_vae')) checkVaeName(body.sd_vae, this.vaeFiles()); // before anything changes
    // In a cluster: nothing changes here that could not be shared, and the change goes on the cluster's settings.
    this.sharedOptions?.assertAvailable();
    await this.sharedOptions?.refresh();
    const resolve = async (alias: string) => {
      const file = findCheckpoint(await this.generator.listCheckpoints(), alias);
      return file && { title: checkpointTitle(file), sha256: file.sha256 };
    };
    const load = (alias: string) =>
      this.queue.exclusive(async () => {
        const file = findCheckpoint(await this.generator.listCheckpoints(), alias);
        if (!file) throw new Error(`checkpoint ${alias} disappeared while waiting for the queue`);
        const loaded = await this.load(file);
        return { title: checkpointTitle(loaded), sha256: loaded.sha256 };
      });
    // An API-only node records the checkpoint for the workers instead of loading it.
    const record = async (alias: string) => (await resolve(alias)) ?? Promise.reject(new Error(`checkpoint ${alias} disappeared`));
    const set = await this.options.update(body, { resolve, load: this.sharedOptions?.runsJobs === false ? record : load });
    await this.sharedOptions?.publish(set);
  }

  /** GET /progress: the queue's state, with the live preview while a job runs (unless skipped). */
  async progress(skipCurrentImage = false): Promise<ProgressResponse> {
    const progress = this.queue.progress();
    if (progress.state.job_count === 0 || skipCurrentImage) return progress;
    return { ...progress, current_image: await this.preview.current() };
  }

  /**
   * What the `infotext` request field needs (§8.6): the options in force and, when automatic model switching is
   * on (`disable_weights_auto_swap` off), the checkpoints to look `Model hash` up in.
   */
  async infotextContext(): Promise<InfotextContext> {
    const options = this.options.effective();
    const files = options.disable_weights_auto_swap === false ? await this.generator.listCheckpoints() : [];
    const checkpointByHash = (hash: string) => {
      const file = files.find((f) => f.sha256?.startsWith(hash.toLowerCase()) || f.legacyHash === hash);
      return file && checkpointTitle(file);
    };
    return { options, styles: this.styles.database(), checkpointByHash };
  }

  /** Inside the queue: checkpoint first, then the engine's img2img. */
  private async runImg2img(job: Img2ImgJob, hooks: GenerationHooks): Promise<Img2ImgResult> {
    if (job.script) return job.script.run(this.scriptExecutor(job.refiner), hooks);
    const { img2img } = this.generator;
    if (!img2img) throw new ApiError('UNSUPPORTED_PARAM', "this server's generator cannot run img2img");
    await this.ensureCheckpoint(job.checkpointOverride);
    const refiner = await resolveRefiner(this.generator, job.refiner);
    return img2img.call(this.generator, { ...this.styles.apply(job.params), infotextVersion: this.version, ...(refiner ? { refiner } : {}) }, hooks);
  }

  /**
   * What a script generates with: the cell's checkpoint first, styles applied, the cell's refiner or else the job's,
   * txt2img or img2img by its params.
   */
  private scriptExecutor(jobRefiner: RefinerRequest | null = null): ScriptExecutor {
    return {
      generate: async (params, checkpoint, hooks, cellRefiner) => {
        await this.ensureCheckpoint(checkpoint);
        const refiner = await resolveRefiner(this.generator, cellRefiner === undefined ? jobRefiner : cellRefiner);
        const styled = { ...this.styles.apply(params), infotextVersion: this.version, ...(refiner ? { refiner } : {}) };
        if (!('initImages' in styled)) return this.generator.txt2img(styled, hooks);
        if (!this.generator.img2img) throw new ApiError('UNSUPPORTED_PARAM', "this server's generator cannot run img2img");
        return this.generator.img2img(styled, hooks);
      },
    };
  }

  /**
   * The job's checkpoint: an exact-alias override (others are dropped, as A1111 does), else the configured
   * `sd_model_checkpoint`, else whatever is loaded, else the first checkpoint found.
   */
  private async ensureCheckpoint(override: string | null): Promise<void> {
    const files = await this.generator.listCheckpoints();
    const configured = this.options.value('sd_model_checkpoint');
    const wanted =
      (override ? findCheckpoint(files, override) : undefined) ??
      (typeof configured === 'string' ? findCheckpoint(files, configured) : undefined) ??
      this.generator.currentCheckpoint() ??
      files.find((f) => !f.error) ??
      files[0];
    if (!wanted) return; // the generator reports the missing model itself
    const loaded = await this.load(wanted);
    if (!override) this.options.recordCheckpoint({ title: checkpointTitle(loaded), sha256: loaded.sha256 });
  }

  /** GET /sd-vae: the VAE files `sd_vae` may name (services/vae-files.ts). */
  vaeFiles(): VaeFile[] {
    return listVaeFiles(vaeDirsFromFlags(this.cmdFlags));
  }

  /** POST /refresh-vae (§3.17): a rescan under the queue lock, as A1111; the listing is read from disk on every call. */
  async refreshVae(): Promise<void> {
    await this.queue.exclusive(async () => this.vaeFiles());
  }

  /** `override_settings.sd_vae` naming no file is a 422 before the job is queued (a job would fail on it later). */
  private checkVaeOverride(overrides: Record<string, unknown> | null | undefined): void {
    if (overrides && Object.hasOwn(overrides, 'sd_vae')) checkVaeName(overrides.sd_vae, this.vaeFiles());
  }

  /**
   * POST /refresh-checkpoints (spec §3.17): a rescan under the queue lock, as A1111. The listing is read from disk
   * on every call here, so a new file shows in /sd-models after this (and already before it).
   */
  async refreshCheckpoints(): Promise<void> {
    await this.queue.exclusive(() => this.generator.listCheckpoints());
  }

  /**
   * POST /unload-checkpoint (§3.21): frees the loaded model. A1111 does it at once, under a running job's feet; we
   * wait for the running job (the queue), so a job never loses its model halfway. The next job loads it again.
   */
  async unloadCheckpoint(): Promise<void> {
    await this.queue.exclusive(async () => await this.generator.unloadCheckpoint?.());
  }

  /**
   * POST /reload-checkpoint (§3.21) and the load at start-up (`--skip-load-model-at-start` skips it): the configured
   * checkpoint (else the first usable one) is loaded now if it is not loaded already.
   */
  async reloadCheckpoint(): Promise<void> {
    await this.queue.exclusive(() => this.ensureCheckpoint(null));
  }

  private async load(file: CheckpointFile): Promise<CheckpointFile> {
    const current = this.generator.currentCheckpoint();
    if (current && current.filename === file.filename) return current;
    // A file listed as unusable is refused before the loaded model is touched: a 422 naming the file and the reason.
    if (file.error) throw new ApiError('MODEL_NOT_FOUND', `checkpoint ${JSON.stringify(file.name)} cannot be loaded: ${file.error}`);
    return this.generator.loadCheckpoint(file);
  }
}

/** Engine embedding info → A1111's EmbeddingItem (+ our `reason` on skipped ones). */
function toEmbeddingItem(info: EngineEmbeddingInfo): EmbeddingItem {
  const item: EmbeddingItem = {
    step: info.step,
    sd_checkpoint: info.sdCheckpoint,
    sd_checkpoint_name: info.sdCheckpointName,
    shape: info.shape,
    vectors: info.vectors,
  };
  if (info.reason !== undefined) item.reason = info.reason;
  return item;
}

/** A job progress preview: the cheap latent→RGB map of the first image, as a PNG data URL. */
function latentPreview(p: GenerationProgress): string | null {
  if (!p.latent) return null;
  const image = previewOf(p.latent, p.latentFormat ?? 'sd', false);
  return `data:image/png;base64,${encodePng(image.rgb, image.width, image.height).toString('base64')}`;
}
