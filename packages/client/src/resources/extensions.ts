import type { ExtensionList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.extensions`. */
export class ExtensionsResource extends APIResource {
  /** GET /sdapi/v1/extensions: installed git extensions `{name, remote, branch, commit_hash, version, commit_date, enabled}`. */
  list(options?: RequestOptions): APIPromise<ExtensionList> {
    return this._client.get('/sdapi/v1/extensions', options);
  }
}
