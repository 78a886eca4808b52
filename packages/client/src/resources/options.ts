import type { Options, OptionsUpdate } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.options`: the server's settings. */
export class OptionsResource extends APIResource {
  /** GET /sdapi/v1/options: every setting. */
  retrieve(options?: RequestOptions): APIPromise<Options> {
    return this._client.get('/sdapi/v1/options', options);
  }

  /**
   * POST /sdapi/v1/options. `sd_model_checkpoint` must be an exact checkpoint alias (a title, name or hash);
   * the server loads it before answering. Resolves to null. Not repeated on a 500: A1111 answers unknown keys
   * and unknown checkpoints that way.
   */
  update(body: OptionsUpdate, options?: RequestOptions): APIPromise<null> {
    return this._client.post('/sdapi/v1/options', { body, ...options });
  }
}
