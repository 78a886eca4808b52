// Public API of @sdapi/client.

export type {
  CmdFlags,
  EmbeddingItem,
  EmbeddingsResponse,
  ExtensionItem,
  ExtrasBatchImagesRequest,
  ExtrasBatchImagesResponse,
  ExtrasSingleImageRequest,
  ExtrasSingleImageResponse,
  FaceRestorerItem,
  HypernetworkItem,
  Img2ImgRequest,
  Img2ImgResponse,
  InterrogateRequest,
  InterrogateResponse,
  LatentUpscalerModeItem,
  LoraItem,
  MemoryResponse,
  Options,
  PNGInfoRequest,
  PNGInfoResponse,
  ProgressResponse,
  PromptStyleItem,
  RealesrganItem,
  SamplerItem,
  SchedulerItem,
  ScriptArg,
  ScriptInfo,
  ScriptsList,
  SDModelItem,
  SDVaeItem,
  Txt2ImgInfo,
  Txt2ImgRequest,
  Txt2ImgResponse,
  UpscalerItem,
} from '@sdapi/protocol';
export { type ClientOptions, type RequestOptions, SDClient } from './client.ts';
export { APIPromise } from './core/api-promise.ts';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLargeError,
  PermissionDeniedError,
  RateLimitError,
  SDError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnprocessableEntityError,
} from './core/errors.ts';
export { type ADetailerUnit, adetailer, adetailerUnit } from './lib/alwayson/adetailer.ts';
export { alwaysOn } from './lib/alwayson/always-on.ts';
export { type AnimateDiffOptions, animateDiff } from './lib/alwayson/animatediff.ts';
export {
  type ControlMode,
  type ControlNetResizeMode,
  type ControlNetUnitArgs,
  type ControlNetUnitInput,
  controlNet,
  controlNetUnit,
} from './lib/alwayson/controlnet.ts';
export { type ReActorOptions, type RoopOptions, reactor, roop } from './lib/alwayson/face-swap.ts';
export { selfAttentionGuidance } from './lib/alwayson/sag.ts';
export type { GenerateEvent, GenerateOptions } from './lib/generate.ts';
export { decodeImage, type ImageInput, imageToBase64, imageToBlob, imageToDataURL, sniffImageType } from './lib/images.ts';
export type { ModelChoice, WaitForReadyOptions } from './lib/models.ts';
export {
  type ExtrasInput,
  extraBatchImagesRequest,
  extraSingleImageRequest,
  type Img2ImgInput,
  INPAINTING_FILL,
  type InpaintInput,
  img2imgRequest,
  inpaintRequest,
  pngInfoRequest,
} from './lib/requests.ts';
export { type ParsedResult, parseInfo, parseResult } from './lib/result.ts';
export { type PromptMatrixOptions, promptMatrix } from './lib/scripts/prompt-matrix.ts';
export { formatPromptLine, type PromptLine, type PromptsFromFileOptions, promptsFromFile } from './lib/scripts/prompts-from-file.ts';
export {
  type LoopbackOptions,
  loopback,
  type OutpaintDirection,
  type OutpaintingMk2Options,
  outpaintingMk2,
  type PoorMansOutpaintingOptions,
  poorMansOutpainting,
  type SdUpscaleOptions,
  sdUpscale,
} from './lib/scripts/img2img-scripts.ts';
export { findXyzAxis, type XyzAxisOption, type XyzTab, type XyzValueType, type XyzVersion, xyzAxisOptions } from '@sdapi/protocol/scripts';
export { type AxisValuesInput, expandXyzAxisValues, type ScriptSelection, type XyzAxisSpec, type XyzPlotOptions, xyzPlot } from './lib/scripts/xyz-plot.ts';
export { similarityRatio } from './lib/similarity.ts';
export type { ControlNetDetectRequest, ControlNetDetectResponse, ControlNetModuleDetail } from './resources/controlnet.ts';
export type { ProgressParams } from './resources/progress.ts';
export type { Capabilities, Job, JobCreateRequest, JobEvent, JobEventType, JobImage, JobList, JobStatus, JobType } from '@sdapi/protocol';
export type { JobEventsOptions, JobListParams } from './resources/jobs.ts';
