import type { CmdFlags } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.cmdFlags`. */
export class CmdFlagsResource extends APIResource {
  /** GET /sdapi/v1/cmd-flags: one key per command-line flag destination (A1111 types flags whose default is None as strings). */
  retrieve(options?: RequestOptions): APIPromise<CmdFlags> {
    return this._client.get('/sdapi/v1/cmd-flags', options);
  }
}
