/**
 * GET /sdapi/v1/scripts, /script-info, /extensions and /memory (spec §3.20, §3.22–§3.24). Scripts listed: the
 * selectable ones this server runs (services/scripts/registry.ts) and the always-on `controlnet`
 * (sd-webui-controlnet, so clients such as webuiapi find it); extensions are not a concept of this server, so that list is empty. /memory reports the process and system RAM; `cuda` is unavailable because
 * onnxruntime exposes no allocator statistics.
 */
import { totalmem } from 'node:os';
import { PyFloat } from '@sdapi/engine';
import { ExtensionList, MemoryResponse, ScriptInfoList, ScriptsList } from '@sdapi/protocol';
import { controlNetScriptInfo } from '../../services/controlnet.ts';
import { scriptEnv } from '../../services/scripts/env.ts';
import { scriptInfo, scriptsList } from '../../services/scripts/registry.ts';
import type { SdApiInstance } from '../../types.ts';

/**
 * A1111's `ram` object: used = this process's RSS (an int), total = system memory and free = total − used (floats
 * in A1111, which derives total from psutil's memory_percent).
 */
export function ramUsage(): { free: PyFloat; used: number; total: PyFloat } {
  const used = process.memoryUsage().rss;
  const total = totalmem();
  return { free: new PyFloat(total - used), used, total: new PyFloat(total) };
}

export function systemRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/scripts', { schema: { response: { 200: ScriptsList } } }, async () => scriptsList(['controlnet']));
  app.get('/sdapi/v1/script-info', { schema: { response: { 200: ScriptInfoList } } }, async () => {
    const count = app.sd.options.effective().control_net_unit_count;
    const controlNet = controlNetScriptInfo(typeof count === 'number' ? count : 3);
    const envs = { txt2img: await scriptEnv(app.sd, 'txt2img'), img2img: await scriptEnv(app.sd, 'img2img') };
    return scriptInfo(
      (tab) => envs[tab],
      (tab) => controlNet.filter((s) => s.is_img2img === (tab === 'img2img')),
    );
  });
  app.get('/sdapi/v1/extensions', { schema: { response: { 200: ExtensionList } } }, async () => []);
  app.get('/sdapi/v1/memory', { schema: { response: { 200: MemoryResponse } } }, async () =>
    // PyFloat boxes serialise as Python floats; the schema's type is the plain-number view clients see.
    ({ ram: ramUsage() as unknown as MemoryResponse['ram'], cuda: { error: 'unavailable' } }),
  );
}
