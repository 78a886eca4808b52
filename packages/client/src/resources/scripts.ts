import type { ScriptsList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.scripts`. */
export class ScriptsResource extends APIResource {
  /** GET /sdapi/v1/scripts: `{txt2img, img2img}`: lower-cased titles of the scripts that can be named in `script_name` / `alwayson_scripts`. */
  list(options?: RequestOptions): APIPromise<ScriptsList> {
    return this._client.get('/sdapi/v1/scripts', options);
  }
}
