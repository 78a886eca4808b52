/**
 * A loaded checkpoint: its detected config and lazily compiled ORT sessions for the text encoder, UNet and
 * VAE. Sessions are created on first use and kept (creating a full-size UNet session takes seconds and GBs),
 * and the three networks run through the small typed methods below, so pipelines never see ORT.
 */
import { basename, extname } from 'node:path';
import type { ModelConfig } from '../checkpoint/config.ts';
import { detectModel } from '../checkpoint/detect.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { buildTextEncoderGraph } from '../models/clip-text.ts';
import { buildUNetGraph } from '../models/unet-model.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../models/vae.ts';
import { withCircularConvPadding } from '../onnx/circular-padding.ts';
import type { Graph } from '../onnx/graph.ts';
import { type CompileOptions, compileGraph } from '../runtime/compile.ts';
import { type ExternalVae, type OpenVae, openVaeFile } from './external-vae.ts';
import type { LoraCatalog } from '../networks/lora-catalog.ts';
import type { ModelUpscalerHook } from '../upscalers/catalog.ts';
import type { EmbeddingDatabase } from './embedding-database.ts';
import { isSpatialConv, ModelNetworks } from './model-networks.ts';
import type { Feed, OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import type { TaesdPreview } from './taesd-preview.ts';
import { DEFAULT_TILE_ABOVE, DEFAULT_TILING, decodeTiled, type VaeTiling } from './vae-tiling.ts';

export interface LoadOptions {
  /** Directory for compiled models whose weights need ONNX external data (full-size checkpoints). */
  cacheDir?: string;
  /** Size cap of `cacheDir` (runtime/onnx-cache.ts; `--onnx-cache-max-gb`). */
  cacheMaxBytes?: number;
  /** Threads per ORT operator (default: all cores). */
  threads?: number;
  /**
   * 'int8': the UNet's Linear layers and convolutions use int8 weights (onnx/quantize.ts), faster and less exact (`npm run bench`
   * case unet-sd15-512-int8 prints both). Jobs with LoRA networks run the float32 UNet (merged weights are fed).
   */
  quantize?: 'int8';
  /**
   * Hold less memory at once: the UNet's sessions are released before every VAE decode (each batch; hires fix's
   * first pass with a pixel upscaler) and loaded again (from the ONNX cache, about a second for SD1.5) by the next
   * UNet call, so the UNet's activations and ORT's copies of its weights are not held during the decode (its fed
   * weights stay in JS memory); with an F16 checkpoint the UNet's 3×3 conv weights are also held as float16 (fed,
   * like its Linear weights).
   * Measured by `npm run bench` (case txt2img-sd15-512-4-low-memory).
   */
  lowMemory?: boolean;
  /**
   * VAE decoding in tiles (pipeline/vae-tiling.ts): 'auto' (default) only for latents over 128² (images over
   * 1024², where whole-image activations take gigabytes), 'always' for any latent larger than a tile, 'never', or
   * a tile size and overlap to use always.
   */
  vaeTiling?: 'auto' | 'always' | 'never' | VaeTiling;
}

/**
 * What every compile of a model's graphs shares (the model's, a separate VAE file's, a ControlNet's). `arena`: keep
 * ORT's memory arena, for the text encoders only: a UNet's, VAE's or ControlNet's activations are hundreds of MB to
 * GBs and are given back after each run instead (runtime/ort.ts memArena).
 */
export function compileOptions(options: LoadOptions, arena = false): CompileOptions {
  return { cacheDir: options.cacheDir, cacheMaxBytes: options.cacheMaxBytes, intraOpThreads: options.threads, memArena: arena };
}

/**
 * Which weights a session takes as inputs: 'fed' the Linear and 1×1-conv weights (the checkpoint's, or
 * LoRA-merged ones), 'spatial' those and the 3×3 convs, 'int8' none (Linear weights are int8 initializers).
 */
type WeightMode = 'fed' | 'spatial' | 'int8';

/** `text0`, `text1`: the text encoders in `config.text_encoders` order. */
type ImagePart = 'unet' | 'unetControlled' | 'vaeDecoder' | 'vaeEncoder';
/** `…Circular`: the tiling variant of a UNet/VAE graph (onnx/circular-padding.ts), compiled on first use. */
type Part = `text${number}` | ImagePart | `${ImagePart}Circular`;

/**
 * Textual-inversion vectors for one text-encoder call: `rows` [N·77·C] replace the token embeddings wherever
 * `mask` [N·77] is 1 (pipeline/conditioning.ts builds them from the chunks' fixes).
 */
export interface TokenFixes {
  rows: Float32Array;
  mask: Float32Array;
}

/** Every hidden state of one text encoder: [L+1, N, 77, C] raw and through the final LayerNorm, plus the pooled feature. */
export interface TextEncoderOutput {
  hiddenStates: Tensor;
  hiddenStatesLn: Tensor;
  /** [N, projection_dim] for towers with a text projection (OpenCLIP), else null. */
  pooled: Tensor | null;
}

export class LoadedModel {
  readonly path: string;
  readonly name: string;
  readonly config: ModelConfig;
  /** A1111's 10-hex short hash (sha256 of the file), once the caller has computed it; null until then. */
  shortHash: string | null = null;
  /**
   * A1111 `tiling`: UNet and VAE convolutions pad circularly (seamless textures). Like A1111's hijack it is a
   * model-wide switch; each job sets it before running (jobs run one at a time).
   */
  tiling = false;
  /** Textual-inversion embeddings prompts may use, once the caller has attached a folder's database; null: none. */
  embeddings: EmbeddingDatabase | null = null;
  /** TAESD live previews (pipeline/taesd-preview.ts), once the caller has attached its weights; null: none. */
  taesd: TaesdPreview | null = null;
  /** LoRA / LyCORIS files `<lora:…>` tags may name, once the caller has attached a catalog; null: none. */
  loras: LoraCatalog | null = null;
  /** Model upscalers hires fix may name (ESRGAN files), once the caller has attached them; null: none. */
  upscalers: ModelUpscalerHook | null = null;
  /** Which weights the UNet and text sessions take as inputs, and the merged LoRA weights fed in their place. */
  readonly networks: ModelNetworks;
  private readonly file: SafetensorsFile;
  private readonly options: LoadOptions;
  /** Keyed by part, `+spatial` for the UNet variant that also takes its spatial conv weights as inputs. */
  /** spatialConvsAreFloat16's answer, worked out once. */
  private spatialHalf: boolean | null = null;
  private readonly sessions = new Map<string, Promise<OrtSession>>();
  /** Per session key: the parameters that session takes as inputs (name → dims). */
  private readonly fed = new Map<string, Map<string, readonly number[]>>();
  /** The separate VAE file in use (A1111 `sd_vae`), or null for the checkpoint's own. */
  private externalVae: ExternalVae | null = null;
  /** Opened VAE files by path, least recently used first; their sessions are keyed `<part>@<path>`. */
  private readonly vaeFiles = new Map<string, OpenVae>();

  private constructor(path: string, file: SafetensorsFile, config: ModelConfig, options: LoadOptions) {
    this.path = path;
    this.name = basename(path, extname(path));
    this.file = file;
    this.config = config;
    this.options = options;
    this.networks = new ModelNetworks(file, config, () => [this.graph('unet'), ...config.text_encoders.map((_, i) => this.graph(`text${i}`))]);
  }

  /** Opens and validates `path` and detects its architecture; compiles nothing yet. */
  static open(path: string, options: LoadOptions = {}): LoadedModel {
    const file = SafetensorsFile.open(path);
    try {
      return new LoadedModel(path, file, detectModel(file), options);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /** How this model was opened (a refiner opened for it shares the cache folder and threads). */
  get loadOptions(): LoadOptions {
    return this.options;
  }

  /** The sessions loaded now, by part and weight mode ('unet', 'unet+int8', 'vaeDecoder', …): tests read it. */
  get loadedSessions(): string[] {
    return [...this.sessions.keys()];
  }

  /** Compiles every network now (so the first request does not pay for it). */
  async warmUp(): Promise<void> {
    const text = this.config.text_encoders.map((_, i): Part => `text${i}`);
    await Promise.all([...[...text, 'vaeDecoder'].map((p) => this.session(p as Part)), this.session('unet', this.weightMode('unet'))]);
    for (const fed of this.fed.values()) this.networks.weights.preload(fed); // the fed weights too, not on the first run
  }

  /**
   * Token ids [N, 77] through text encoder `encoder` (index into `config.text_encoders`): every layer's output;
   * which one conditions the UNet is pipeline/text-encoders.ts's business (clip skip, SD2/SDXL layer rules).
   * `fixes` splice textual-inversion vectors into the token embeddings.
   */
  async encodeText(encoder: number, ids: readonly number[][], fixes?: TokenFixes): Promise<TextEncoderOutput> {
    const config = this.config.text_encoders[encoder];
    if (!config) throw new RangeError(`text encoder ${encoder} does not exist (model has ${this.config.text_encoders.length})`);
    const n = ids.length;
    const flat = BigInt64Array.from(ids.flat().map(BigInt));
    const out = await this.run(`text${encoder}`, {
      input_ids: { int64: flat, shape: [n, 77] },
      // The session is the token-fixes variant; an all-zero mask keeps every token embedding.
      inputs_embeds_override: new Tensor([n, 77, config.hidden_size], fixes?.rows),
      inputs_embeds_mask: new Tensor([n, 77, 1], fixes?.mask),
    });
    return { hiddenStates: out.hidden_states, hiddenStatesLn: out.hidden_states_ln, pooled: out.pooled ?? null };
  }

  /**
   * One UNet evaluation: x [N, 4, h, w], fractional timesteps [N], context [N, L, C] (+ `y` [N, adm] for
   * SDXL) → eps (or v). `control`: summed ControlNet residuals, which run the controlled UNet variant (compiled
   * on first use, so jobs without ControlNet never build it).
   */
  async unet(x: Tensor, timesteps: readonly number[], context: Tensor, y: Tensor | null = null, control: readonly Tensor[] | null = null): Promise<Tensor> {
    const adm = this.config.unet.adm_in_channels;
    if ((adm === null) !== (y === null)) throw new Error(`UNet of ${this.config.family} ${adm === null ? 'takes no' : `needs a [N, ${adm}]`} y input`);
    const feeds: Record<string, Tensor> = { x, timesteps: new Tensor([timesteps.length], Float32Array.from(timesteps)), context, ...(y ? { y } : {}) };
    control?.forEach((residual, i) => {
      feeds[`control_${i}`] = residual;
    });
    return (await this.run(this.variant(control ? 'unetControlled' : 'unet'), feeds)).out;
  }

  /** The separate VAE file that decodes and encodes (A1111 `sd_vae`), or null for the checkpoint's own. */
  get vae(): ExternalVae | null {
    return this.externalVae;
  }

  /**
   * Decodes and encodes with `vae`'s weights from the next call on (null: the checkpoint's own VAE). The UNet and
   * text sessions are untouched; each file's VAE sessions are compiled once and kept for the last
   * VAE_FILES_KEPT files, so switching back and forth costs nothing. A file that does not fit is refused here.
   */
  useVae(vae: ExternalVae | null): void {
    if (vae) this.openVae(vae.path);
    this.externalVae = vae ? { ...vae } : null;
  }

  /** Diffusion-space latent → image [N, 3, H, W] in about [-1, 1]. */
  async decode(latent: Tensor): Promise<Tensor> {
    // lowMemory: the UNet's weights and buffers go before the decoder's activations come.
    if (this.options.lowMemory) await this.releaseSessions((key) => key.startsWith('unet'));
    const session = await this.vaeSession(this.variant('vaeDecoder'));
    const run = async (tile: Tensor) => (await session.run({ latent: tile })).image;
    const [, , h, w] = latent.shape;
    const mode = this.options.vaeTiling ?? 'auto';
    const tiling = typeof mode === 'object' ? mode : DEFAULT_TILING;
    const tiled = mode === 'auto' ? h * w > DEFAULT_TILE_ABOVE : mode !== 'never' && Math.max(h, w) > tiling.tile;
    return tiled ? decodeTiled(latent, run, tiling) : run(latent);
  }

  /** Image [N, 3, H, W] in [-1, 1] → moments [N, 8, H/8, W/8]. */
  async encodeImage(image: Tensor): Promise<Tensor> {
    const session = await this.vaeSession(this.variant('vaeEncoder'));
    return (await session.run({ image })).moments;
  }

  /** The VAE session of `part` with the current VAE's weights (the checkpoint's, or the separate file's). */
  private vaeSession(part: Part): Promise<OrtSession> {
    const vae = this.externalVae;
    if (!vae) return this.session(part);
    const key = `${part}@${vae.path}`;
    let session = this.sessions.get(key);
    if (!session) {
      const { file, keyOf } = this.openVae(vae.path);
      session = compileGraph(this.graph(part), file, { ...compileOptions(this.options), keyOf });
      session.catch(() => this.sessions.delete(key));
      this.sessions.set(key, session);
    }
    return session;
  }

  /** The opened VAE file at `path` (opened and checked on first use); older files beyond the cache are released. */
  private openVae(path: string): OpenVae {
    let open = this.vaeFiles.get(path);
    if (open) this.vaeFiles.delete(path);
    else open = openVaeFile(path, this.config.vae);
    this.vaeFiles.set(path, open); // most recently used last
    for (const [old, entry] of this.vaeFiles) {
      if (this.vaeFiles.size <= VAE_FILES_KEPT) break;
      this.vaeFiles.delete(old);
      void this.releaseSessions((key) => key.endsWith(`@${old}`)).finally(() => entry.file.close());
    }
    return open;
  }

  /** Releases the sessions whose key `which` picks (they are compiled again, from the ONNX cache, on next use). */
  private async releaseSessions(which: (key: string) => boolean): Promise<void> {
    for (const [key, session] of [...this.sessions]) {
      if (!which(key)) continue;
      this.sessions.delete(key);
      await session.then((s) => s.release()).catch(() => undefined);
    }
  }

  private session(part: Part, mode: WeightMode = 'fed'): Promise<OrtSession> {
    const key = sessionKey(part, mode);
    let session = this.sessions.get(key);
    if (!session) {
      const graph = this.graph(part);
      // UNet and text-encoder weights are session inputs so LoRA-merged ones can be fed (model-networks.ts).
      const fed = mode === 'int8' ? new Map<string, readonly number[]>() : this.networks.fedParams(graph, !part.startsWith('vae'), mode === 'spatial');
      this.fed.set(key, fed);
      const quantize = mode === 'int8' ? 'int8' : undefined;
      session = compileGraph(graph, this.file, {
        ...compileOptions(this.options, part.startsWith('text')),
        fedParams: new Set(fed.keys()),
        float16Fed: new Set([...fed.keys()].filter((key) => this.networks.weights.isFloat16(key))),
        quantize,
      });
      session.catch(() => this.sessions.delete(key)); // a failed compile may be retried
      this.sessions.set(key, session);
    }
    return session;
  }

  /**
   * Runs `part` with `feeds` plus its fed weights (the checkpoint's, or the active networks' merge); the UNet runs
   * its `+spatial` variant while the active networks patch spatial convs, and its int8 one when asked for and no
   * networks are active.
   */
  private async run(part: Part, feeds: Record<string, Feed>): Promise<Record<string, Tensor>> {
    const mode = this.weightMode(part);
    const session = await this.session(part, mode);
    return session.run({ ...feeds, ...this.networks.weights.feeds(this.fed.get(sessionKey(part, mode)) ?? new Map()) });
  }

  private weightMode(part: Part): WeightMode {
    if (!part.startsWith('unet')) return 'fed';
    if (this.networks.patchesSpatialConvs) return 'spatial';
    if (this.options.quantize === 'int8' && !this.networks.active) return 'int8';
    // lowMemory with an F16 checkpoint: the 3×3 conv weights are fed too, so they are held as float16 as well
    // (half of SD1.5's 2 GB of them; ORT's plain Conv on fed weights is a few % slower than its NCHWc one).
    return this.options.lowMemory && this.spatialConvsAreFloat16() ? 'spatial' : 'fed';
  }

  /** Whether the UNet's 3×3 conv weights are F16 in the checkpoint (so feeding them as float16 halves them). */
  private spatialConvsAreFloat16(): boolean {
    if (this.spatialHalf === null) {
      const fed = this.networks.fedParams(this.graph('unet'), true, true);
      const spatial = [...fed].filter(([, dims]) => isSpatialConv(dims));
      this.spatialHalf = spatial.length > 0 && spatial.every(([key]) => this.networks.weights.isFloat16(key));
    }
    return this.spatialHalf;
  }

  /** The graph variant for the current tiling setting. */
  private variant(part: ImagePart): Part {
    return this.tiling ? `${part}Circular` : part;
  }

  private graph(part: Part): Graph {
    if (part.endsWith('Circular')) return withCircularConvPadding(this.graph(part.slice(0, -'Circular'.length) as ImagePart));
    switch (part) {
      case 'unet':
        return buildUNetGraph(this.config.unet);
      case 'unetControlled':
        return buildUNetGraph(this.config.unet, { control: true });
      case 'vaeDecoder':
        return buildVAEDecoderGraph(this.config.vae);
      case 'vaeEncoder':
        return buildVAEEncoderGraph(this.config.vae);
      default:
        return buildTextEncoderGraph(this.config.text_encoders[Number(part.slice('text'.length))], { tokenFixes: true });
    }
  }

  async release(): Promise<void> {
    const sessions = await Promise.allSettled(this.sessions.values());
    for (const s of sessions) if (s.status === 'fulfilled') await s.value.release();
    this.sessions.clear();
    this.networks.clear();
    for (const open of this.vaeFiles.values()) open.file.close();
    this.vaeFiles.clear();
    this.externalVae = null;
    this.file.close();
  }
}

/** Separate VAE files whose sessions stay compiled (A1111 keeps none; a VAE's sessions are small next to a UNet). */
const VAE_FILES_KEPT = 2;

const sessionKey = (part: Part, mode: WeightMode) => (mode === 'fed' ? part : `${part}+${mode}`);
