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

  /** POST /sdapi/v1/refresh-loras: rescan the LoRA folders (same as `client.refreshLoras()`). */
  refresh(options?: RequestOptions): APIPromise<null> {
    return this._client.post('/sdapi/v1/refresh-loras', { ...options, retry: 'idempotent' });
  }
}
