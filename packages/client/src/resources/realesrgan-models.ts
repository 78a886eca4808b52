import type { RealesrganList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.realesrganModels`. */
export class RealesrganModelsResource extends APIResource {
  /** GET /sdapi/v1/realesrgan-models: `{name, path, scale}` of every known Real-ESRGAN model. */
  list(options?: RequestOptions): APIPromise<RealesrganList> {
    return this._client.get('/sdapi/v1/realesrgan-models', options);
  }
}
