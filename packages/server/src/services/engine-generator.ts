/**
 * The real Generator: checkpoints found by the engine's catalog (A1111 discovery and naming), one model loaded
 * at a time through `StableDiffusion`, hashes cached in `<data-dir>/cache.json` as A1111 does. With no checkpoint
 * anywhere, the embedded placeholder (random weights, says so in its name) is written and served.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointCatalog,
  type CheckpointEntry,
  cachedSha256,
  DEFAULT_MODEL_NOTICE,
  EmbeddingDatabase,
  EngineError,
  ensureDefaultModel,
  type GenerationHooks,
  type GenerationOptions,
  HashCache,
  type Img2ImgParams,
  type Img2ImgResult,
  LoraCatalog,
  type Pixels,
  StableDiffusion,
  safetensorsProblem,
  sweepOnnxCache,
  TAESD_FILES,
  TaesdPreview,
  type TileOptions,
  type Txt2ImgParams,
  type Txt2ImgResult,
  UpscalerCatalog,
  type UpscalerEntry,
  upscalerDirs,
} from '@sdapi/engine';
import type { LoraList } from '@sdapi/protocol';
import { ApiError } from './errors.ts';
import type { CheckpointFile, EmbeddingList, Generator } from './generator.ts';
import { listVaeFiles, resolveVae } from './vae-files.ts';

export interface EngineGeneratorOptions {
  /** A1111 `--data-dir`: models/, cache.json and the ONNX cache live under it. */
  dataDir: string;
  /** `--ckpt`: listed first. */
  ckpt?: string | null;
  /** `--ckpt-dir`: an extra checkpoint folder. */
  ckptDir?: string | null;
  /** `--embeddings-dir` (default `<data-dir>/embeddings`): textual-inversion embeddings, read recursively. */
  embeddingsDir?: string | null;
  /** `--lora-dir`: LoRA / LyCORIS files besides `<data-dir>/models/Lora` and `<data-dir>/models/LyCORIS` (subfolders too). */
  loraDir?: string | null;
  /** `--vae-dir`: VAE files besides `<data-dir>/models/VAE` (option `sd_vae`). */
  vaeDir?: string | null;
  /** `--no-hashing`. */
  noHashing?: boolean;
  /** Write the placeholder model when no checkpoint exists (default true). */
  placeholder?: boolean;
  /** Threads per ORT operator. */
  threads?: number;
  /** `--int8`: the UNet's Linear layers and convolutions run with int8 weights (engine LoadOptions.quantize). */
  quantize?: 'int8';
  /** `--low-memory`: the UNet is released before each VAE decode (engine LoadOptions.lowMemory). */
  lowMemory?: boolean;
  /** `--onnx-cache-max-gb` in bytes: the size cap of `<data-dir>/cache/onnx` (engine runtime/onnx-cache.ts). */
  cacheMaxBytes?: number;
  log?: (line: string) => void;
}

const sizeText = (bytes: number) => (bytes < 1024 ** 3 ? `${Math.round(bytes / 1024 ** 2)} MiB` : `${(bytes / 1024 ** 3).toFixed(1)} GiB`);

export class EngineGenerator implements Generator {
  private readonly cache: HashCache;
  private loaded: { file: CheckpointFile; sd: StableDiffusion } | null = null;
  /** The TAESD decoder the loaded model uses, with the file state it was compiled from (kept across loads). */
  private taesd: { key: string; preview: TaesdPreview } | null = null;
  private readonly embeddings: EmbeddingDatabase;
  private readonly loras: LoraCatalog;
  private readonly upscalers: UpscalerCatalog;

  constructor(private readonly options: EngineGeneratorOptions) {
    this.cache = new HashCache(join(options.dataDir, 'cache.json'));
    this.embeddings = new EmbeddingDatabase([options.embeddingsDir ?? join(options.dataDir, 'embeddings')]);
    const loraDirs = [options.loraDir, join(options.dataDir, 'models', 'Lora'), join(options.dataDir, 'models', 'LyCORIS')];
    this.loras = new LoraCatalog({ dirs: loraDirs.filter((d): d is string => Boolean(d)), cache: this.cache, noHashing: options.noHashing });
    this.upscalers = new UpscalerCatalog(upscalerDirs(options.dataDir), { threads: options.threads });
    this.sweepOnnxCache();
  }

  private get onnxCacheDir(): string {
    return join(this.options.dataDir, 'cache', 'onnx');
  }

  /**
   * At start, entries of checkpoints deleted or replaced since the last run go, and the folder is brought under its
   * cap (compiles sweep again after each new entry).
   */
  private sweepOnnxCache(): void {
    try {
      const { removed, bytes } = sweepOnnxCache(this.onnxCacheDir, { maxBytes: this.options.cacheMaxBytes });
      if (removed.length === 0) return;
      const freed = removed.reduce((sum, r) => sum + r.bytes, 0);
      const reasons = [...new Set(removed.map((r) => r.reason))].join(', ');
      this.options.log?.(
        `ONNX cache: removed ${removed.length} ${removed.length === 1 ? 'entry' : 'entries'} (${reasons}), ${sizeText(freed)} freed, ${sizeText(bytes)} kept`,
      );
    } catch (error) {
      this.options.log?.(`ONNX cache: the sweep of ${this.onnxCacheDir} failed: ${(error as Error).message}`);
    }
  }

  private scan(): CheckpointCatalog {
    const { dataDir, ckpt, ckptDir } = this.options;
    return CheckpointCatalog.scan({ modelsDir: join(dataDir, 'models'), ckpt, ckptDir, cache: this.cache });
  }

  async listCheckpoints(): Promise<CheckpointFile[]> {
    let entries = this.scan().list();
    if (entries.length === 0 && this.options.placeholder !== false) {
      const { created } = ensureDefaultModel(join(this.options.dataDir, 'models', 'Stable-diffusion'));
      if (created) this.options.log?.(DEFAULT_MODEL_NOTICE);
      entries = this.scan().list();
    }
    // Each header is checked (once per size/mtime) so a broken or pickled file is listed as unusable up front.
    return entries.map((e) => ({ name: e.name, filename: e.filename, sha256: e.sha256, legacyHash: e.hash, config: e.config, error: checkpointProblem(e) }));
  }

  currentCheckpoint(): CheckpointFile | null {
    return this.loaded?.file ?? null;
  }

  async loadCheckpoint(checkpoint: CheckpointFile): Promise<CheckpointFile> {
    const catalog = this.scan();
    const entry = catalog.list().find((e) => e.filename === checkpoint.filename);
    if (!entry) throw new ApiError('MODEL_NOT_FOUND', `checkpoint ${checkpoint.name} is no longer on disk`);
    const sha256 = await catalog.hash(entry, { noHashing: this.options.noHashing });
    const sd = openModel(entry.filename, checkpoint.name, {
      cacheDir: this.onnxCacheDir,
      cacheMaxBytes: this.options.cacheMaxBytes,
      threads: this.options.threads,
      quantize: this.options.quantize,
      lowMemory: this.options.lowMemory,
    });
    sd.model.shortHash = sha256 ? sha256.slice(0, 10) : null;
    sd.embeddings = this.embeddings;
    sd.loras = this.loras;
    sd.upscalers = this.upscalers.hook();
    const previous = this.taesd;
    this.taesd = await this.openTaesd(sd);
    sd.model.taesd = this.taesd?.preview ?? null;
    await this.loaded?.sd.release();
    if (previous !== this.taesd) await previous?.preview.release();
    this.loaded = { file: { ...checkpoint, sha256 }, sd };
    this.options.log?.(`loaded ${entry.name}${sha256 ? ` [${sha256.slice(0, 10)}]` : ''}`);
    return this.loaded.file;
  }

  /**
   * The TAESD preview decoder for this model's latent space, when `models/VAE-approx` holds its weights. The one
   * already compiled is kept while its file is unchanged (same path, size and mtime): a switch between checkpoints
   * of one latent space compiles it once, not on every load.
   */
  private async openTaesd(sd: StableDiffusion): Promise<{ key: string; preview: TaesdPreview } | null> {
    const path = join(this.options.dataDir, 'models', 'VAE-approx', TAESD_FILES[sd.model.config.family.startsWith('sdxl') ? 'sdxl' : 'sd']);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return null;
    const key = `${path}\0${stat.size}\0${stat.mtimeMs}`;
    if (this.taesd?.key === key) return this.taesd;
    try {
      return { key, preview: await TaesdPreview.open(path) };
    } catch (error) {
      this.options.log?.(`TAESD previews off: ${(error as Error).message}`);
      return null;
    }
  }

  async hashCheckpoint(checkpoint: CheckpointFile): Promise<CheckpointFile> {
    const catalog = this.scan();
    const entry = catalog.list().find((e) => e.filename === checkpoint.filename);
    if (!entry) throw new ApiError('MODEL_NOT_FOUND', `checkpoint ${checkpoint.name} is no longer on disk`);
    return { ...checkpoint, sha256: await catalog.hash(entry, { noHashing: this.options.noHashing }) };
  }

  async txt2img(params: Txt2ImgParams, hooks: GenerationHooks): Promise<Txt2ImgResult> {
    if (!this.loaded)
      throw new ApiError('MODEL_NOT_FOUND', 'no checkpoint is loaded: put a .safetensors file into models/Stable-diffusion or start with --ckpt');
    this.embeddings.refresh(); // A1111 rescans the embeddings folder before each job when it changed
    await this.applyVae(params.options);
    return this.logWarnings(await this.loaded.sd.txt2img(params, hooks));
  }

  /**
   * The job's VAE (option `sd_vae` as the job has it, spec §3.14): resolved against the files on disk and the loaded
   * checkpoint, hashed through cache.json (`vae/<name>`), and handed to the model, which swaps only its VAE sessions.
   */
  private async applyVae(options: GenerationOptions): Promise<void> {
    if (!this.loaded) return;
    const { dataDir, ckptDir, vaeDir } = this.options;
    const file = resolveVae(options.sd_vae, listVaeFiles({ dataDir, ckptDir, vaeDir }), this.loaded.file.filename);
    if (!file) return this.loaded.sd.model.useVae(null);
    const sha256 = await cachedSha256(file.filename, `vae/${file.model_name}`, { cache: this.cache, noHashing: this.options.noHashing });
    this.loaded.sd.model.useVae({ path: file.filename, name: file.model_name, shortHash: sha256 ? sha256.slice(0, 10) : null });
  }

  /** What a job skipped (LoRA not found, unmatched modules, …) goes to the server log as well as into `info`. */
  private logWarnings<T extends Txt2ImgResult>(result: T): T {
    for (const warning of result.warnings ?? []) this.options.log?.(`warning: ${warning}`);
    return result;
  }

  /** GET /loras: A1111's fields, plus `error` for a file that cannot be applied. */
  listLoras(): LoraList {
    return this.loras.list().map((e) => ({ name: e.name, alias: e.alias, path: e.path, metadata: e.metadata, ...(e.error ? { error: e.error } : {}) }));
  }

  refreshLoras(): void {
    this.loras.refresh();
  }

  async img2img(params: Img2ImgParams, hooks: GenerationHooks): Promise<Img2ImgResult> {
    if (!this.loaded)
      throw new ApiError('MODEL_NOT_FOUND', 'no checkpoint is loaded: put a .safetensors file into models/Stable-diffusion or start with --ckpt');
    this.embeddings.refresh();
    await this.applyVae(params.options);
    return this.logWarnings(await this.loaded.sd.img2img(params, hooks));
  }

  /** Rescans the folder when it changed (A1111 lists what its last job loaded; a new file shows here at once). */
  listEmbeddings(): EmbeddingList {
    this.embeddings.refresh();
    return this.loaded ? this.loaded.sd.describeEmbeddings() : { loaded: new Map(), skipped: new Map() };
  }

  refreshEmbeddings(): void {
    this.embeddings.refresh(true);
  }

  listUpscalers(): UpscalerEntry[] {
    return this.upscalers.list();
  }

  refreshUpscalers(): void {
    this.upscalers.refresh();
  }

  upscaleImage(name: string, img: Pixels, scale: number, tiles: TileOptions, hooks?: GenerationHooks): Promise<Pixels> {
    return this.upscalers.upscale(name, img, scale, tiles, hooks?.signal);
  }

  async close(): Promise<void> {
    await this.unloadCheckpoint();
  }

  /** Releases the sessions and the mapped file; the next job loads a checkpoint again (loadCheckpoint). */
  async unloadCheckpoint(): Promise<void> {
    const loaded = this.loaded;
    const taesd = this.taesd;
    this.loaded = null;
    this.taesd = null;
    await loaded?.sd.release();
    await taesd?.preview.release(); // the model's release leaves it (it is this generator's, shared across loads)
    await this.upscalers.release();
  }
}

/** Why a listed checkpoint cannot be loaded: a pickle (never unpickled) or a safetensors header that fails the checks. */
function checkpointProblem(entry: CheckpointEntry): string | null {
  if (entry.format === 'ckpt')
    return `${entry.filename}: a pickled checkpoint (.ckpt) is never loaded (unpickling can run arbitrary code); convert it to .safetensors`;
  return safetensorsProblem(entry.filename);
}

/**
 * StableDiffusion.open, with a file that is not a usable checkpoint (header sound but the layout is not a model we
 * run) turned into a 422 naming it: the request chose the file, and the loaded model stays as it was.
 */
function openModel(filename: string, name: string, options: Parameters<typeof StableDiffusion.open>[1]): StableDiffusion {
  try {
    return StableDiffusion.open(filename, options);
  } catch (error) {
    if (error instanceof EngineError && (error.code === 'CHECKPOINT_INVALID' || error.code === 'UNSUPPORTED_MODEL')) {
      throw new ApiError('MODEL_NOT_FOUND', `checkpoint ${JSON.stringify(name)} cannot be loaded: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
