/** POST /sdapi/v1/img2img (spec §3.2): img2img, inpainting and outpainting through the one queue. */
import { Img2ImgRequest, Img2ImgResponse } from '@sdapi/protocol';
import { decodeRequestImage } from '../../services/image-input.ts';
import { encodeOutputImages } from '../../services/image-output.ts';
import { toImg2ImgJob, toImg2ImgResponse } from '../../services/img2img-mapping.ts';
import { applyInfotext } from '../../services/infotext-request.ts';
import type { SdApiInstance } from '../../types.ts';

export function img2imgRoute(app: SdApiInstance): void {
  app.post('/sdapi/v1/img2img', { schema: { body: Img2ImgRequest, response: { 200: Img2ImgResponse } } }, async (req) => {
    const options = app.sd.options.effective();
    const body = applyInfotext(Img2ImgRequest, req.body, 'img2img', await app.sd.infotextContext());
    const job = await toImg2ImgJob(body, options, app.sd.catalog, (image) => decodeRequestImage(image, options));
    job.params.controlNet = await app.controlNet.units(body, options, job.params.initImages.length > 0);
    const result = await app.sd.img2img(job);
    const after = app.sd.options.effective();
    // ControlNet detected maps follow the generated images, as the extension appends them.
    const images = body.send_images === false ? [] : await encodeOutputImages([...result.images, ...(result.detectedMaps ?? [])], after);
    return toImg2ImgResponse(body, result, { options: after, version: app.sd.version, images });
  });
}
