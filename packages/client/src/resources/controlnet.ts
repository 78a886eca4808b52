/**
 * `client.controlnet`: the sd-webui-controlnet extension's routes at the server root (spec controlnet-api.md §8).
 * They exist only where the extension is installed (else 404), and A1111 does not put them behind `--api-auth`.
 * The ControlNet *units* of a generation go in `alwayson_scripts` instead: see `controlNetUnit()`.
 */
import type { RequestOptions } from '../client.ts';
import type { APIPromise } from '../core/api-promise.ts';
import { APIResource } from '../core/resource.ts';
import { type ImageInput, imageToDataURL } from '../lib/images.ts';

export interface ControlNetModuleDetail {
  model_free: boolean;
  sliders: { name: string; value: number; min: number; max: number; step?: number }[];
}

export interface ControlNetDetectRequest {
  /** Preprocessor name or label (default "none"). */
  controlnet_module?: string;
  /** Base64 images or data URLs. */
  controlnet_input_images?: string[];
  controlnet_masks?: string[];
  controlnet_processor_res?: number;
  controlnet_threshold_a?: number;
  controlnet_threshold_b?: number;
  low_vram?: boolean;
}

export interface ControlNetDetectResponse {
  info: string;
  images?: string[];
  poses?: unknown[];
  tensor?: unknown[];
}

export class ControlNetResource extends APIResource {
  /** GET /controlnet/version → the extension's API version (3 for v1.1.455). */
  async version(options?: RequestOptions): Promise<number> {
    return (await this._client.get<{ version: number }>('/controlnet/version', options)).version;
  }

  /** GET /controlnet/model_list: `"name [hash8]"` entries for a unit's `model`. */
  async modelList(params: { update?: boolean } = {}, options?: RequestOptions): Promise<string[]> {
    return (await this._client.get<{ model_list: string[] }>('/controlnet/model_list', { query: params, ...options })).model_list;
  }

  /** GET /controlnet/module_list: preprocessor names (labels with `alias_names`) and their sliders. */
  moduleList(
    params: { alias_names?: boolean } = {},
    options?: RequestOptions,
  ): APIPromise<{ module_list: string[]; module_detail: Record<string, ControlNetModuleDetail> }> {
    return this._client.get('/controlnet/module_list', { query: params, ...options });
  }

  /** GET /controlnet/control_types: modules and models grouped by control type. */
  controlTypes(options?: RequestOptions): APIPromise<{ control_types: Record<string, unknown> }> {
    return this._client.get('/controlnet/control_types', options);
  }

  /** GET /controlnet/settings → `{control_net_unit_count}`. */
  settings(options?: RequestOptions): APIPromise<{ control_net_unit_count: number }> {
    return this._client.get('/controlnet/settings', options);
  }

  /** POST /controlnet/detect: run a preprocessor on images; maps come back at the preprocessor's size. */
  detect(body: ControlNetDetectRequest, options?: RequestOptions): APIPromise<ControlNetDetectResponse> {
    return this._client.post('/controlnet/detect', { body, ...options });
  }

  /**
   * `detect` from bytes/Blobs. Sends `controlnet_input_images`, the key the extension reads (webuiapi sends
   * `controlnet_images`, which v1.1.455 ignores and answers 422 `No image selected`).
   */
  detectFrom(
    images: ImageInput[],
    params: Omit<ControlNetDetectRequest, 'controlnet_input_images'> = {},
    options?: RequestOptions,
  ): APIPromise<ControlNetDetectResponse> {
    const body = Promise.all(images.map((image) => imageToDataURL(image))).then((urls) => ({ ...params, controlnet_input_images: urls }));
    return this._client.request({ method: 'POST', path: '/controlnet/detect', body, ...options, retry: 'once' });
  }
}
