/**
 * The server's only view of the engine. `app.ts` receives a Generator; the real one wraps @sdapi/engine's
 * `loadModel(path) → StableDiffusion`, tests pass a fake. Everything A1111-specific about naming and options stays
 * on the server side of this interface.
 */
import type {
  EmbeddingInfo,
  GenerationHooks,
  Img2ImgParams,
  Img2ImgResult,
  Pixels,
  TileOptions,
  Txt2ImgParams,
  Txt2ImgResult,
  UpscalerEntry,
} from '@sdapi/engine';
import type { LoraList } from '@sdapi/protocol';

/** A checkpoint file the generator can load (spec §9.1–9.2); the server derives titles and aliases from it. */
export interface CheckpointFile {
  /** Path relative to the checkpoint folder with native separators (`sub/dir/foo.safetensors`). */
  name: string;
  /** Absolute path of the file. */
  filename: string;
  /** SHA-256 of the whole file (hex), or null until the file has been hashed (on first load). */
  sha256: string | null;
  /** A1111's legacy 8-hex model hash (a lookup alias only), when known. */
  legacyHash?: string | null;
  /** Path of a `.yaml` next to the file with the same base name, else null. */
  config?: string | null;
  /** Why the file cannot be loaded (pickle, malformed safetensors header), or absent/null when it can. */
  error?: string | null;
}

export interface Generator {
  /** Checkpoints in discovery order (GET /sdapi/v1/sd-models). */
  listCheckpoints(): Promise<CheckpointFile[]>;
  /** The loaded checkpoint, or null before any model is loaded. */
  currentCheckpoint(): CheckpointFile | null;
  /**
   * Loads `checkpoint` for the following jobs (hashing it if needed) and returns it with `sha256` filled in.
   * Called inside the generation queue, never concurrently with txt2img.
   */
  loadCheckpoint(checkpoint: CheckpointFile): Promise<CheckpointFile>;
  /**
   * `checkpoint` with `sha256` filled in (hashing it now unless --no-hashing), without loading it: the refiner's
   * infotext title. Absent: titles use whatever hash the listing knows.
   */
  hashCheckpoint?(checkpoint: CheckpointFile): Promise<CheckpointFile>;
  /** Runs one txt2img job with the loaded checkpoint; progress, interrupt and skip go through `hooks`. */
  txt2img(params: Txt2ImgParams, hooks: GenerationHooks): Promise<Txt2ImgResult>;
  /** Runs one img2img/inpainting job (absent: the generator cannot, and img2img answers an error). */
  img2img?(params: Img2ImgParams, hooks: GenerationHooks): Promise<Img2ImgResult>;
  /**
   * Textual-inversion embeddings as the loaded model sees them (GET /embeddings): `loaded` fit its text encoders.
   * Generators without textual inversion leave both out (the lists are then empty).
   */
  listEmbeddings?(): EmbeddingList | Promise<EmbeddingList>;
  /** Re-reads the embeddings folder (POST /refresh-embeddings); called inside the queue. */
  refreshEmbeddings?(): void | Promise<void>;
  /** LoRA / LyCORIS files (GET /loras); generators without networks leave it out (the list is then empty). */
  listLoras?(): LoraList;
  /** Rescans the LoRA folders (POST /refresh-loras). */
  refreshLoras?(): void;
  /**
   * Frees the loaded checkpoint's sessions and weights (POST /unload-checkpoint); `currentCheckpoint()` is then
   * null and the next job loads a checkpoint again. Called inside the queue. Generators that hold nothing leave it out.
   */
  unloadCheckpoint?(): Promise<void>;
  /** Model upscaler files (ESRGAN / Real-ESRGAN) found in the data folder; generators without them leave it out. */
  listUpscalers?(): UpscalerEntry[];
  /** Looks at the upscaler folders again. */
  refreshUpscalers?(): void;
  /** A1111's Upscaler.upscale of `img` by `scale` with the named model upscaler, off the server's thread; in the queue. */
  upscaleImage?(name: string, img: Pixels, scale: number, tiles: TileOptions, hooks?: GenerationHooks): Promise<Pixels>;
}

/** Embeddings by name, in listing order. */
export interface EmbeddingList {
  loaded: ReadonlyMap<string, EmbeddingInfo>;
  skipped: ReadonlyMap<string, EmbeddingInfo>;
}
