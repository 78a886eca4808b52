import type { ScriptInfoList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.scriptInfo`. */
export class ScriptInfoResource extends APIResource {
  /** GET /sdapi/v1/script-info: every script with its arguments (`label`, default `value`, range, `choices`) in `script_args` order. */
  list(options?: RequestOptions): APIPromise<ScriptInfoList> {
    return this._client.get('/sdapi/v1/script-info', options);
  }
}
