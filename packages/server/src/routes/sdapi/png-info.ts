/** POST /sdapi/v1/png-info (spec §3.4): no queue lock; the image string follows the §1.9 rules (stripped first). */
import { PNGInfoRequest, PNGInfoResponse } from '@sdapi/protocol';
import { decodeRequestImage } from '../../services/image-input.ts';
import { pngInfo } from '../../services/png-info.ts';
import type { SdApiInstance } from '../../types.ts';

export function pngInfoRoute(app: SdApiInstance): void {
  app.post('/sdapi/v1/png-info', { schema: { body: PNGInfoRequest, response: { 200: PNGInfoResponse } } }, async (req) => {
    const options = app.sd.options.effective();
    const image = await decodeRequestImage(req.body.image.trim(), options, { maxPixels: app.sd.limits.maxImagePixels });
    return pngInfo(image, { ...(await app.sd.infotextContext()), catalog: app.sd.catalog });
  });
}
