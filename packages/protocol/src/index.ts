// Public API of @sdapi/protocol: the A1111 /sdapi/v1 wire contract as TypeBox schemas + Static types.
export { type CoerceResult, coerce, providedFields } from './coerce.ts';
export { HTTPErrorBody, RouteErrorBody, ValidationErrorBody, ValidationIssue } from './errors.ts';
export { nullable, PYTHON_INT_DEFAULT, withDefault } from './fields.ts';
export { EmbeddingItem, EmbeddingsResponse } from './embeddings.ts';
export { SDModelItem, SDModelList } from './models.ts';
export { CmdFlags, Options, OptionsUpdate } from './options.ts';
export { ProgressRequest, ProgressResponse, ProgressState } from './progress.ts';
export { PromptStyleItem, PromptStyleList } from './prompt-styles.ts';
export { SamplerItem, SamplerList, SchedulerItem, SchedulerList } from './samplers.ts';
export { type Txt2ImgInfo, Txt2ImgRequest, Txt2ImgResponse } from './txt2img.ts';
export { Img2ImgRequest, Img2ImgResponse } from './img2img.ts';
export { PNGInfoRequest, PNGInfoResponse } from './png-info.ts';
export {
  FaceRestorerItem,
  FaceRestorerList,
  HypernetworkItem,
  HypernetworkList,
  LatentUpscalerModeItem,
  LatentUpscalerModeList,
  RealesrganItem,
  RealesrganList,
  SDVaeItem,
  SDVaeList,
  UpscalerItem,
  UpscalerList,
} from './lists.ts';
export { ExtrasBatchImagesRequest, ExtrasBatchImagesResponse, ExtrasSingleImageRequest, ExtrasSingleImageResponse, FileData } from './extras.ts';
export { InterrogateRequest, InterrogateResponse } from './interrogate.ts';
export { MemoryResponse } from './memory.ts';
export { ExtensionItem, ExtensionList, ScriptArg, ScriptInfo, ScriptInfoList, ScriptsList } from './scripts.ts';
export * from './scripts/index.ts';
export {
  Capabilities,
  FINISHED_STATUSES,
  Job,
  JOB_EVENT_TYPES,
  JOB_STATUSES,
  JOB_TYPES,
  JobCreateRequest,
  JobError,
  type JobEvent,
  type JobEventType,
  JobImage,
  JobList,
  JobListQuery,
  JobProgress,
  JobResult,
  type JobStatus,
  type JobType,
  JobWebhook,
  WsTicket,
} from './jobs.ts';
export { ImageGenerateRequest, ImagesResponse, OpenAIErrorBody, OpenAIModel, OpenAIModelList } from './openai.ts';
export { LoraItem, LoraList } from './loras.ts';
export {
  CONTROLNET_CONTROL_MODES,
  CONTROLNET_HR_OPTIONS,
  CONTROLNET_RESIZE_MODES,
  ControlNetControlTypes,
  ControlNetDetectRequest,
  ControlNetDetectResponse,
  ControlNetModelList,
  ControlNetModelListQuery,
  ControlNetModuleList,
  ControlNetModuleListQuery,
  ControlNetSettings,
  ControlNetUnit,
  ControlNetVersion,
} from './controlnet.ts';
