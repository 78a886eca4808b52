/** POST /sdapi/v1/txt2img (spec §3.1). */
import { Txt2ImgRequest, Txt2ImgResponse } from '@sdapi/protocol';
import { toTxt2ImgJob, toTxt2ImgResponse } from '../../services/mapping.ts';
import type { SdApiInstance } from '../../types.ts';

export function txt2imgRoute(app: SdApiInstance): void {
  app.post('/sdapi/v1/txt2img', { schema: { body: Txt2ImgRequest, response: { 200: Txt2ImgResponse } } }, async (req) => {
    const job = toTxt2ImgJob(req.body, app.sd.options.effective(), app.sd.catalog);
    const result = await app.sd.txt2img(job);
    return toTxt2ImgResponse(req.body, result, { options: app.sd.options.effective(), version: app.sd.version });
  });
}
