import type { MemoryResponse } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.memory`. */
export class MemoryResource extends APIResource {
  /** GET /sdapi/v1/memory: `{ram, cuda}` in bytes, or `{error}` entries. */
  retrieve(options?: RequestOptions): APIPromise<MemoryResponse> {
    return this._client.get('/sdapi/v1/memory', options);
  }
}
