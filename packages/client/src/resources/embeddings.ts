import type { EmbeddingsResponse } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.embeddings`. */
export class EmbeddingsResource extends APIResource {
  /** GET /sdapi/v1/embeddings: `{loaded, skipped}` by name: `loaded` fit the current model's text encoder. */
  list(options?: RequestOptions): APIPromise<EmbeddingsResponse> {
    return this._client.get('/sdapi/v1/embeddings', options);
  }
}
