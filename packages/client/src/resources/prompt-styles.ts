import type { PromptStyleList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.promptStyles`. */
export class PromptStylesResource extends APIResource {
  /** GET /sdapi/v1/prompt-styles: `{name, prompt, negative_prompt}` from styles.csv, usable in `styles: [name]`. */
  list(options?: RequestOptions): APIPromise<PromptStyleList> {
    return this._client.get('/sdapi/v1/prompt-styles', options);
  }
}
