/**
 * A loaded ControlNet file: its detected config and a lazily compiled ORT session, run through one typed
 * method so pipelines never see ORT (the ControlNet twin of model.ts's LoadedModel).
 */
import { basename, extname } from 'node:path';
import type { ControlNetConfig } from '../checkpoint/config.ts';
import { detectControlNet } from '../checkpoint/detect-controlnet.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { EngineError, InvalidParamsError } from '../errors.ts';
import { buildControlNetGraph } from '../models/controlnet.ts';
import { compileGraph } from '../runtime/compile.ts';
import type { OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import { compileOptions, type LoadOptions } from './model.ts';

export class ControlNetModel {
  readonly name: string;
  private session: Promise<OrtSession> | null = null;

  private constructor(
    readonly path: string,
    private readonly file: SafetensorsFile,
    readonly config: ControlNetConfig,
    private readonly keyOf: (name: string) => string,
    private readonly options: LoadOptions,
  ) {
    this.name = basename(path, extname(path));
  }

  /** Opens `path` and detects the architecture; compiles nothing yet. */
  static open(path: string, options: LoadOptions = {}): ControlNetModel {
    let file: SafetensorsFile;
    try {
      file = SafetensorsFile.open(path);
    } catch (error) {
      throw unusable(error, 'cannot be loaded');
    }
    try {
      const { config, keyOf } = detectControlNet(file);
      return new ControlNetModel(path, file, config, keyOf, options);
    } catch (error) {
      file.close();
      throw unusable(error, `(${path}) cannot be used`);
    }
  }

  /** Number of residuals (13 for SD1/SD2, 10 for SDXL, 5 for the tiny fixture). */
  get residualCount(): number {
    const u = this.config.unet;
    return 1 + u.channel_mult.length * u.num_res_blocks + (u.channel_mult.length - 1) + 1;
  }

  /**
   * The unscaled residuals for latent rows `x` [N, 4, h, w]: `hint` [1, C, 8h, 8w] in [0, 1] (broadcast over the
   * rows), timesteps [N], context [N, L, C] (+ `y` for SDXL ControlNets).
   */
  async run(x: Tensor, hint: Tensor, timesteps: readonly number[], context: Tensor, y: Tensor | null): Promise<Tensor[]> {
    const session = await this.compiled();
    const feeds: Record<string, Tensor> = { x, hint, timesteps: new Tensor([timesteps.length], Float32Array.from(timesteps)), context };
    if (this.config.unet.adm_in_channels !== null) {
      if (!y) throw new Error(`ControlNet ${this.name} is an SDXL ControlNet and needs the SDXL vector conditioning`);
      feeds.y = y;
    }
    const out = await session.run(feeds);
    return Array.from({ length: this.residualCount }, (_, i) => out[`control_${i}`]);
  }

  private compiled(): Promise<OrtSession> {
    if (!this.session) {
      const session = compileGraph(buildControlNetGraph(this.config), this.file, { ...compileOptions(this.options), keyOf: this.keyOf });
      session.catch(() => {
        this.session = null; // a failed compile may be retried
      });
      this.session = session;
    }
    return this.session;
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await (await session).release().catch(() => undefined);
    this.file.close();
  }
}

/**
 * Loaded ControlNets, most recently used last; beyond `size` (the extension's option
 * control_net_model_cache_size, default 2) the oldest is released.
 */
export class ControlNetCache {
  private readonly models = new Map<string, ControlNetModel>();

  constructor(
    public size = 2,
    private readonly options: LoadOptions = {},
  ) {}

  get(path: string): ControlNetModel {
    let model = this.models.get(path);
    if (model) this.models.delete(path);
    else model = ControlNetModel.open(path, this.options);
    this.models.set(path, model);
    for (const [key, old] of this.models) {
      if (this.models.size <= Math.max(1, this.size)) break;
      this.models.delete(key);
      void old.release();
    }
    return model;
  }

  async release(): Promise<void> {
    const models = [...this.models.values()];
    this.models.clear();
    await Promise.all(models.map((m) => m.release()));
  }
}

const caches = new WeakMap<object, ControlNetCache>();

/** The ControlNet cache that belongs to `owner` (a loaded checkpoint), created on first use. */
export function controlNetCacheOf(owner: object, options: LoadOptions = {}): ControlNetCache {
  let cache = caches.get(owner);
  if (!cache) {
    cache = new ControlNetCache(2, options);
    caches.set(owner, cache);
  }
  return cache;
}

/**
 * A ControlNet file the request named that is malformed, pickled or of another model type: a request error
 * (INVALID_PARAMS, a 422 naming the file and the reason) rather than a server fault.
 */
function unusable(error: unknown, what: string): unknown {
  if (!(error instanceof EngineError) || (error.code !== 'CHECKPOINT_INVALID' && error.code !== 'UNSUPPORTED_MODEL')) return error;
  return new InvalidParamsError('controlnet', `ControlNet model ${what}: ${error.message}`);
}
