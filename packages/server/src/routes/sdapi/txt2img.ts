/** POST /sdapi/v1/txt2img (spec §3.1): a job in the one queue, answered synchronously with its id in `X-Job-Id`. */
import { Txt2ImgRequest, Txt2ImgResponse } from '@sdapi/protocol';
import { encodeOutputImages } from '../../services/image-output.ts';
import { applyInfotext } from '../../services/infotext-request.ts';
import { toTxt2ImgJob, toTxt2ImgResponse } from '../../services/mapping.ts';
import type { SdApiInstance } from '../../types.ts';

export function txt2imgRoute(app: SdApiInstance): void {
  app.post('/sdapi/v1/txt2img', { schema: { body: Txt2ImgRequest, response: { 200: Txt2ImgResponse } } }, async (req, reply) => {
    const body = applyInfotext(Txt2ImgRequest, req.body, 'txt2img', await app.sd.infotextContext());
    const job = toTxt2ImgJob(body, app.sd.options.effective(), app.sd.catalog);
    job.params.controlNet = await app.controlNet.units(body, app.sd.options.effective());
    const handle = await app.sd.submitTxt2img(body, job);
    reply.header('x-job-id', handle.record.id);
    const { output } = await handle.done;
    // Encoded after the job with the options then in force (a samples_format override does not apply, §4.3).
    const options = app.sd.options.effective();
    // ControlNet detected maps follow the generated images, as the extension appends them.
    const images = body.send_images === false ? [] : await encodeOutputImages([...output.images, ...(output.detectedMaps ?? [])], options);
    return toTxt2ImgResponse(body, output, { options, version: app.sd.version, images });
  });
}
