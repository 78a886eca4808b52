import type { UpscalerList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.upscalers`. */
export class UpscalersResource extends APIResource {
  /** GET /sdapi/v1/upscalers: `{name, model_name, model_path, model_url, scale}`; None, Lanczos, Nearest first. Valid `hr_upscaler` / `upscaler_1` names. */
  list(options?: RequestOptions): APIPromise<UpscalerList> {
    return this._client.get('/sdapi/v1/upscalers', options);
  }
}
