/** POST /sdapi/v1/txt2img (spec §3.1): a job in the one queue, answered synchronously with its id in `X-Job-Id`. */
import { Txt2ImgRequest, Txt2ImgResponse } from '@sdapi/protocol';
import { toTxt2ImgJob, toTxt2ImgResponse } from '../../services/mapping.ts';
import type { SdApiInstance } from '../../types.ts';

export function txt2imgRoute(app: SdApiInstance): void {
  app.post('/sdapi/v1/txt2img', { schema: { body: Txt2ImgRequest, response: { 200: Txt2ImgResponse } } }, async (req, reply) => {
    const job = toTxt2ImgJob(req.body, app.sd.options.effective(), app.sd.catalog);
    const handle = await app.sd.submitTxt2img(req.body, job);
    reply.header('x-job-id', handle.record.id);
    const { output } = await handle.done;
    return toTxt2ImgResponse(req.body, output, { options: app.sd.options.effective(), version: app.sd.version });
  });
}
