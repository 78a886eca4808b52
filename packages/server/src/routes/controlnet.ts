/**
 * The sd-webui-controlnet routes (spec controlnet-api.md §8), at the server root as the extension registers
 * them (outside `/sdapi/v1` and its --api-auth).
 */
import {
  ControlNetControlTypes,
  ControlNetDetectRequest,
  ControlNetDetectResponse,
  ControlNetModelList,
  ControlNetModelListQuery,
  ControlNetModuleList,
  ControlNetModuleListQuery,
  ControlNetSettings,
  ControlNetVersion,
} from '@sdapi/protocol';
import { detect, moduleList } from '../services/controlnet.ts';
import { controlTypes } from '../services/controlnet-types.ts';
import { encodeOutputImages } from '../services/image-output.ts';
import type { SdApiInstance } from '../types.ts';

/** The extension's API version number (v1.1.455 reports 3). */
const CONTROLNET_API_VERSION = 3;

export function controlNetRoutes(app: SdApiInstance): void {
  app.get('/controlnet/version', { schema: { response: { 200: ControlNetVersion } } }, async () => ({ version: CONTROLNET_API_VERSION }));
  app.get('/controlnet/model_list', { schema: { querystring: ControlNetModelListQuery, response: { 200: ControlNetModelList } } }, async (req) => {
    const entries = req.query.update === false ? app.controlNet.catalog.list() : app.controlNet.catalog.rescan();
    return { model_list: entries.map((e) => e.name) };
  });
  app.get('/controlnet/module_list', { schema: { querystring: ControlNetModuleListQuery, response: { 200: ControlNetModuleList } } }, async (req) =>
    moduleList(req.query.alias_names === true),
  );
  app.get('/controlnet/control_types', { schema: { response: { 200: ControlNetControlTypes } } }, async () =>
    controlTypes(app.controlNet.catalog.rescan().map((e) => e.name)),
  );
  app.get('/controlnet/settings', { schema: { response: { 200: ControlNetSettings } } }, async () => {
    const count = app.sd.options.effective().control_net_unit_count;
    return { control_net_unit_count: typeof count === 'number' ? count : 3 };
  });
  app.post('/controlnet/detect', { schema: { body: ControlNetDetectRequest, response: { 200: ControlNetDetectResponse } } }, async (req) => {
    const options = app.sd.options.effective();
    const maps = await detect(req.body, options, app.sd.limits.maxImagePixels);
    return { images: await encodeOutputImages(maps, options), info: 'Success' };
  });
}
