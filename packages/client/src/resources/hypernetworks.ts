import type { HypernetworkList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.hypernetworks`. */
export class HypernetworksResource extends APIResource {
  /** GET /sdapi/v1/hypernetworks: `{name, path}`, usable as `<hypernet:name:1>` in prompts. */
  list(options?: RequestOptions): APIPromise<HypernetworkList> {
    return this._client.get('/sdapi/v1/hypernetworks', options);
  }
}
