import type { LoraList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.loras`. */
export class LorasResource extends APIResource {
  /** GET /sdapi/v1/loras: `{name, alias, path, metadata}` (open even with `--api-auth` on A1111). */
  list(options?: RequestOptions): APIPromise<LoraList> {
    return this._client.get('/sdapi/v1/loras', options);
  }
}
