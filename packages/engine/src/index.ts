// Public API of @sdapi/engine.
export { decodePng, encodePng, encodePngRgba, readTextChunks, type DecodedPng } from './image/png.ts';
export { decodeImage, encodeImage, ImageDecodeError, ImageTooLargeError, type DecodedImage, type EncodeOptions, type OutputFormat } from './image/codec.ts';
export { approxCheapPreview, type LatentPreviewFormat, type PreviewImage } from './image/latent-preview.ts';
export { TAESD_FILES, TaesdPreview } from './pipeline/taesd-preview.ts';
export { type ModelUpscalerHook, tileOptions, UpscalerCatalog, type UpscalerEntry, upscalerDirs } from './upscalers/catalog.ts';
export { ModelUpscaler, type TileOptions } from './upscalers/model-upscaler.ts';
export { drawGridAnnotations, GRID_FONT_FILE, type GridAnnotation, gridColor, imageGrid, pasteRgb, type RgbImage } from './image/grid.ts';
export { PIXEL_UPSCALERS, type PixelUpscaler, resizePixels } from './image/resize.ts';
export {
  EXTRAS_UPSCALERS,
  type ExtrasUpscaleParams,
  type ExtrasUpscaler,
  extrasUpscale,
  extrasUpscalePlan,
  type ModelUpscale,
  type PostprocessInfo,
  postprocessingText,
} from './image/extras-upscale.ts';
export { type PilFilter, pilResize } from './image/pil-resize.ts';
export { combineTiles, splitTiles, type Tile, type TileGrid } from './image/tiles.ts';
export { matchedNoise } from './image/matched-noise.ts';
export { flatten, parseHexColor, type Pixels, pixels } from './image/compose.ts';
export {
  parseGenerationParameters,
  parseVersion,
  compareVersions,
  type InfotextParseOptions,
  type InfotextVersion,
  type ParsedInfotext,
} from './pipeline/infotext-parse.ts';
export {
  createInfotext,
  formatPyFloat,
  formatPyNumber,
  PyFloat,
  pyFloat,
  pyJsonDumps,
  pyRepr,
  pyReprString,
  pyStr,
  quote,
  unquote,
  RE_PARAM,
  type CreateInfotextOptions,
  type ExtraParam,
  type InfotextContext,
  type InfotextOptions,
  type InfotextParams,
  type InfotextValue,
  type PyJsonDumpsOptions,
} from './pipeline/infotext.ts';
export { DEFAULT_GENERATION_OPTIONS, defaultImg2ImgParams, defaultTxt2ImgParams, StableDiffusion } from './stable-diffusion.ts';
export { HIRES_UPSCALERS } from './pipeline/validate-img2img.ts';
export { LATENT_UPSCALE_MODES } from './image/interpolate.ts';
export { EmbeddingDatabase, type EmbeddingEntry, type UnreadableEmbedding } from './pipeline/embedding-database.ts';
export type { EmbeddingInfo } from './pipeline/textual-inversion.ts';
export { type PromptStyle, parseStylesCsv, StyleDatabase } from './text/styles.ts';
export { EMPHASIS_MODES, type EmphasisMode } from './text/conditioning.ts';
export type { LoadOptions } from './pipeline/model.ts';
export { DEFAULT_CACHE_MAX_BYTES, sweepOnnxCache } from './runtime/onnx-cache.ts';
export type { ExternalVae } from './pipeline/external-vae.ts';
export type {
  GeneratedImage,
  GenerationHooks,
  GenerationOptions,
  GenerationProgress,
  HiresFixParams,
  Img2ImgParams,
  Img2ImgResult,
  InpaintingFill,
  ResizeMode,
  RgbaImage,
  Txt2ImgParams,
  Txt2ImgResult,
} from './pipeline/types.ts';
export { CancelledError, CheckpointError, EngineError, InvalidParamsError, UnsupportedModelError, type EngineErrorCode } from './errors.ts';
export { SafetensorsFile, safetensorsProblem } from './checkpoint/safetensors.ts';
export { detectModel, type DetectOptions } from './checkpoint/detect.ts';
export { describeCheckpoint } from './checkpoint/inspect.ts';
export { SD15_CONFIG, TINY_SD15_CONFIG, writeRandomCheckpoint } from './checkpoint/random.ts';
export { CheckpointCatalog, type CheckpointEntry, toSdModelItem } from './checkpoint/catalog.ts';
export { realFolder, realPathInside } from './checkpoint/folder.ts';
export { cachedSha256, HashCache } from './checkpoint/hashes.ts';
export { LoraCatalog, type LoraCatalogOptions, type LoraEntry } from './networks/lora-catalog.ts';
export { DEFAULT_MODEL_FILE, DEFAULT_MODEL_NOTICE, ensureDefaultModel } from './checkpoint/default-model.ts';
export type { ModelConfig } from './checkpoint/config.ts';
export { SAMPLERS, SCHEDULERS, resolveSamplerAndScheduler, samplersResponse, schedulersResponse } from './sampling/registry.ts';
export { ControlNetCatalog, type ControlNetEntry } from './checkpoint/controlnet-catalog.ts';
export {
  detectMap,
  findPreprocessor,
  KNOWN_MODULES,
  PREPROCESSORS,
  resolveSliders,
  type Preprocessor,
  type Slider,
  unavailableReason,
} from './image/preprocessors.ts';
export { CONTROL_MODES, type ControlMode } from './pipeline/control.ts';
export { type ControlNetUnitParams, controlNetUnit } from './pipeline/control-units.ts';
