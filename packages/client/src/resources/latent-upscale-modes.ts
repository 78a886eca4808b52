import type { LatentUpscalerModeList } from '@sdapi/protocol';
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';

/** `client.latentUpscaleModes`. */
export class LatentUpscaleModesResource extends APIResource {
  /** GET /sdapi/v1/latent-upscale-modes: `[{name: "Latent"}, …]`, the other valid `hr_upscaler` values. */
  list(options?: RequestOptions): APIPromise<LatentUpscalerModeList> {
    return this._client.get('/sdapi/v1/latent-upscale-modes', options);
  }
}
