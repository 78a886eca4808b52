// Public API of @sdapi/protocol: the A1111 /sdapi/v1 wire contract as TypeBox schemas + Static types.
export { coerce, providedFields, type CoerceResult } from './coerce.ts';
export { HTTPErrorBody, RouteErrorBody, ValidationErrorBody, ValidationIssue } from './errors.ts';
export { nullable, PYTHON_INT_DEFAULT, withDefault } from './fields.ts';
export { SDModelItem, SDModelList } from './models.ts';
export { CmdFlags, Options, OptionsUpdate } from './options.ts';
export { ProgressRequest, ProgressResponse, ProgressState } from './progress.ts';
export { SamplerItem, SamplerList, SchedulerItem, SchedulerList } from './samplers.ts';
export { Txt2ImgRequest, Txt2ImgResponse, type Txt2ImgInfo } from './txt2img.ts';
