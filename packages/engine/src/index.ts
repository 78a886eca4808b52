// Public API of @sdapi/engine.

export { CheckpointCatalog, type CheckpointEntry, toSdModelItem } from './checkpoint/catalog.ts';
export type { ModelConfig } from './checkpoint/config.ts';
export { ControlNetCatalog, type ControlNetEntry } from './checkpoint/controlnet-catalog.ts';
export { DEFAULT_MODEL_FILE, DEFAULT_MODEL_NOTICE, ensureDefaultModel } from './checkpoint/default-model.ts';
export { type DetectOptions, detectModel } from './checkpoint/detect.ts';
export { realFolder, realPathInside } from './checkpoint/folder.ts';
export { cachedSha256, HashCache } from './checkpoint/hashes.ts';
export { describeCheckpoint } from './checkpoint/inspect.ts';
export { SD15_CONFIG, TINY_SD15_CONFIG, writeRandomCheckpoint } from './checkpoint/random.ts';
export { SafetensorsFile, safetensorsProblem } from './checkpoint/safetensors.ts';
export { CancelledError, CheckpointError, EngineError, type EngineErrorCode, InvalidParamsError, UnsupportedModelError } from './errors.ts';
export { type DecodedImage, decodeImage, type EncodeOptions, encodeImage, ImageDecodeError, ImageTooLargeError, type OutputFormat } from './image/codec.ts';
export { flatten, type Pixels, parseHexColor, pixels } from './image/compose.ts';
export {
  EXTRAS_UPSCALERS,
  type ExtrasUpscaleParams,
  type ExtrasUpscaler,
  extrasUpscale,
  extrasUpscalePlan,
  type PostprocessInfo,
  postprocessingText,
} from './image/extras-upscale.ts';
export { drawGridAnnotations, GRID_FONT_FILE, type GridAnnotation, gridColor, imageGrid, pasteRgb, type RgbImage } from './image/grid.ts';
export { LATENT_UPSCALE_MODES } from './image/interpolate.ts';
export { approxCheapPreview, type LatentPreviewFormat, type PreviewImage } from './image/latent-preview.ts';
export { matchedNoise } from './image/matched-noise.ts';
export { type PilFilter, pilResize } from './image/pil-resize.ts';
export { type ModelUpscale, upscaleBy } from './image/pixel-upscale.ts';
export { type DecodedPng, decodePng, encodePng, encodePngRgba, readTextChunks } from './image/png.ts';
export {
  detectMap,
  findPreprocessor,
  KNOWN_MODULES,
  PREPROCESSORS,
  type Preprocessor,
  resolveSliders,
  type Slider,
  unavailableReason,
} from './image/preprocessors.ts';
export { PIXEL_UPSCALERS, type PixelUpscaler, resizePixels } from './image/resize.ts';
export { combineTiles, splitTiles, type Tile, type TileGrid } from './image/tiles.ts';
export { LoraCatalog, type LoraCatalogOptions, type LoraEntry } from './networks/lora-catalog.ts';
export { CONTROL_MODES, type ControlMode } from './pipeline/control.ts';
export { type ControlNetUnitParams, controlNetUnit } from './pipeline/control-units.ts';
export { EmbeddingDatabase, type EmbeddingEntry, type UnreadableEmbedding } from './pipeline/embedding-database.ts';
export type { ExternalVae } from './pipeline/external-vae.ts';
export {
  type CreateInfotextOptions,
  createInfotext,
  type ExtraParam,
  formatPyFloat,
  formatPyNumber,
  type InfotextContext,
  type InfotextOptions,
  type InfotextParams,
  type InfotextValue,
  PyFloat,
  type PyJsonDumpsOptions,
  pyFloat,
  pyJsonDumps,
  pyRepr,
  pyReprString,
  pyStr,
  quote,
  RE_PARAM,
  unquote,
} from './pipeline/infotext.ts';
export {
  compareVersions,
  type InfotextParseOptions,
  type InfotextVersion,
  type ParsedInfotext,
  parseGenerationParameters,
  parseVersion,
} from './pipeline/infotext-parse.ts';
export type { LoadOptions } from './pipeline/model.ts';
export { TAESD_FILES, TaesdPreview } from './pipeline/taesd-preview.ts';
export type { EmbeddingInfo } from './pipeline/textual-inversion.ts';
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
export { HIRES_UPSCALERS } from './pipeline/validate-img2img.ts';
export { DEFAULT_CACHE_MAX_BYTES, sweepOnnxCache } from './runtime/onnx-cache.ts';
export { resolveSamplerAndScheduler, SAMPLERS, SCHEDULERS, samplersResponse, schedulersResponse } from './sampling/registry.ts';
export { DEFAULT_GENERATION_OPTIONS, defaultImg2ImgParams, defaultTxt2ImgParams, StableDiffusion } from './stable-diffusion.ts';
export { EMPHASIS_MODES, type EmphasisMode } from './text/conditioning.ts';
export { type PromptStyle, parseStylesCsv, StyleDatabase } from './text/styles.ts';
export { isUsableUpscaler, type ModelUpscalerHook, tileOptions, UpscalerCatalog, type UpscalerEntry, upscalerDirs } from './upscalers/catalog.ts';
export { ModelUpscaler, type TileOptions } from './upscalers/model-upscaler.ts';
