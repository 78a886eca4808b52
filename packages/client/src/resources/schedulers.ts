import type { SchedulerList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.schedulers`. */
export class SchedulersResource extends APIResource {
  /** GET /sdapi/v1/schedulers: `{name, label, aliases, default_rho, need_inner_model}`. */
  list(options?: RequestOptions): APIPromise<SchedulerList> {
    return this._client.get('/sdapi/v1/schedulers', options);
  }
}
