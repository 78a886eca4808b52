import type { ProgressResponse } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

export interface ProgressParams {
  /** Leave out the live preview image. */
  skip_current_image?: boolean;
}

/** `client.progress`. */
export class ProgressResource extends APIResource {
  /** GET /sdapi/v1/progress: `{progress, eta_relative, state, current_image, textinfo}`; idle when `state.job_count` is 0. */
  retrieve(params: ProgressParams = {}, options?: RequestOptions): APIPromise<ProgressResponse> {
    return this._client.get('/sdapi/v1/progress', { query: { skip_current_image: params.skip_current_image }, ...options });
  }
}
