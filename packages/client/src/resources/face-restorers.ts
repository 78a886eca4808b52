import type { FaceRestorerList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.faceRestorers`. */
export class FaceRestorersResource extends APIResource {
  /** GET /sdapi/v1/face-restorers: `{name, cmd_dir}` (CodeFormer, GFPGAN). */
  list(options?: RequestOptions): APIPromise<FaceRestorerList> {
    return this._client.get('/sdapi/v1/face-restorers', options);
  }
}
