// Public API of @sdapi/client.

export type {
  Options,
  ProgressResponse,
  SamplerItem,
  SchedulerItem,
  SDModelItem,
  Txt2ImgInfo,
  Txt2ImgRequest,
  Txt2ImgResponse,
} from '@sdapi/protocol';
export { type ClientOptions, type RequestOptions, SDClient } from './client.ts';
export { APIPromise } from './core/api-promise.ts';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  SDError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnprocessableEntityError,
} from './core/errors.ts';
export { decodeImage, parseInfo } from './lib/helpers.ts';
export type { ProgressParams } from './resources/progress.ts';
