/** POST /sdapi/v1/img2img (spec §3.2): img2img, inpainting and outpainting as a job in the one queue (`X-Job-Id`). */
import { Img2ImgRequest, Img2ImgResponse } from '@sdapi/protocol';
import { decodeRequestImage } from '../../services/image-input.ts';
import { encodeOutputImages } from '../../services/image-output.ts';
import { toImg2ImgJob, toImg2ImgResponse } from '../../services/img2img-mapping.ts';
import { applyInfotext } from '../../services/infotext-request.ts';
import { scriptEnv } from '../../services/scripts/env.ts';
import { checkAlwaysOn, prepareScript, selectsScript } from '../../services/scripts/registry.ts';
import { REMOTE_OUTPUT } from '../../services/jobs/job-service.ts';
import { type Img2ImgPrepared, validateBody } from '../../services/jobs/kinds.ts';
import { remoteSyncResponse } from '../../services/jobs/redis/remote-response.ts';
import type { SdApiInstance } from '../../types.ts';

/** The route's request → job mapping (images decoded, ControlNet units); v2 img2img jobs go through it too. */
export async function prepareImg2Img(app: SdApiInstance, request: Img2ImgRequest): Promise<Img2ImgPrepared> {
  const options = app.sd.options.effective();
  const body = applyInfotext(Img2ImgRequest, request, 'img2img', await app.sd.infotextContext());
  checkAlwaysOn('img2img', body.alwayson_scripts);
  const maxPixels = app.sd.limits.maxImagePixels;
  const decode = (image: string, field: string) => decodeRequestImage(image, options, { maxPixels, field });
  const job = await toImg2ImgJob(body, options, app.sd.catalog, decode, { scripts: true });
  job.params.controlNet = await app.controlNet.units(body, options, job.params.initImages.length > 0);
  if (selectsScript(body)) job.script = prepareScript(body, job, await scriptEnv(app.sd, 'img2img'));
  return { body, job };
}

export function img2imgRoute(app: SdApiInstance): void {
  app.sd.jobs.definePrepare('img2img', (request) => prepareImg2Img(app, validateBody(Img2ImgRequest, request)));
  app.post('/sdapi/v1/img2img', { schema: { body: Img2ImgRequest, response: { 200: Img2ImgResponse } } }, async (req, reply) => {
    const prepared = await prepareImg2Img(app, req.body);
    const handle = await app.sd.submitImg2img(req.body, prepared);
    reply.header('x-job-id', handle.record.id);
    const { output: result, record } = await handle.done;
    const body = prepared.body;
    if ((result as unknown) === REMOTE_OUTPUT) return remoteSyncResponse(app.sd.jobs, record, body); // ran on a cluster worker
    const after = app.sd.options.effective();
    // ControlNet detected maps follow the generated images, as the extension appends them.
    // return_mask / return_mask_composite images follow the image they belong to, as A1111 appends them.
    const generated = result.images.flatMap((image, i) => [image, ...(result.returnedMasks?.[i] ?? [])]);
    const images = body.send_images === false ? [] : await encodeOutputImages([...generated, ...(result.detectedMaps ?? [])], after);
    return toImg2ImgResponse(body, result, { options: after, version: app.sd.version, images });
  });
}
