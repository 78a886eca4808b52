/**
 * POST /sdapi/v1/extra-single-image and /extra-batch-images (spec §3.3): an extras job in the one queue, answered
 * synchronously with its id in `X-Job-Id` (services/extras.ts has the rules, services/jobs/extras-kind.ts the job).
 */
import { ExtrasBatchImagesRequest, ExtrasBatchImagesResponse, ExtrasSingleImageRequest, ExtrasSingleImageResponse } from '@sdapi/protocol';
import { encodeExtrasImage, type ExtrasOutput } from '../../services/extras.ts';
import { prepareExtras } from '../../services/jobs/extras-kind.ts';
import { providedSubset } from '../../services/jobs/kinds.ts';
import type { SdApiInstance } from '../../types.ts';

export function extrasRoutes(app: SdApiInstance): void {
  const run = async (type: 'extra-single-image' | 'extra-batch-images', body: object, reply: { header(k: string, v: string): unknown }) => {
    const request = providedSubset(body);
    const prepared = await prepareExtras(request, type === 'extra-batch-images', app.sd.options, app.sd.limits.maxImagePixels, app.sd.upscalers);
    const handle = await app.sd.jobs.submit<ExtrasOutput>({ type, request, prepared, source: 'sdapi' });
    reply.header('x-job-id', handle.record.id);
    const { output } = await handle.done;
    const options = app.sd.options.effective();
    const images: string[] = [];
    for (const image of output.images) images.push((await encodeExtrasImage(image, options)).toString('base64'));
    return { html_info: output.htmlInfo, images };
  };
  app.post('/sdapi/v1/extra-single-image', { schema: { body: ExtrasSingleImageRequest, response: { 200: ExtrasSingleImageResponse } } }, async (req, reply) => {
    const { html_info, images } = await run('extra-single-image', req.body, reply);
    return { html_info, image: images[0] ?? null };
  });
  app.post('/sdapi/v1/extra-batch-images', { schema: { body: ExtrasBatchImagesRequest, response: { 200: ExtrasBatchImagesResponse } } }, (req, reply) =>
    run('extra-batch-images', req.body, reply),
  );
}
