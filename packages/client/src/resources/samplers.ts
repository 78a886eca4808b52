import type { SamplerList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.samplers`. */
export class SamplersResource extends APIResource {
  /** GET /sdapi/v1/samplers: `{name, aliases, options}`; option values are strings (`"True"`). */
  list(options?: RequestOptions): APIPromise<SamplerList> {
    return this._client.get('/sdapi/v1/samplers', options);
  }
}
