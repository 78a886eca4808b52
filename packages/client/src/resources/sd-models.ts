import type { SDModelList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.sdModels`: the server's checkpoints. */
export class SdModelsResource extends APIResource {
  /** GET /sdapi/v1/sd-models: checkpoints in discovery order; `hash`/`sha256` are null until a file was hashed. */
  list(options?: RequestOptions): APIPromise<SDModelList> {
    return this._client.get('/sdapi/v1/sd-models', options);
  }
}
