import type { SDVaeList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.sdVae`. */
export class SdVaeResource extends APIResource {
  /** GET /sdapi/v1/sd-vae: `{model_name, filename}`; `model_name` (or "Automatic"/"None") is a value for the `sd_vae` option. */
  list(options?: RequestOptions): APIPromise<SDVaeList> {
    return this._client.get('/sdapi/v1/sd-vae', options);
  }
}
