/**
 * Routes of A1111 whose work this server cannot do, answered honestly instead of with a fake success (spec §3.6,
 * §3.18, §3.19): POST /sdapi/v1/interrogate checks its input as A1111 does (404 `Image not found` for a null
 * image, an undecodable image, 404 `Model not found` for a model other than clip/deepdanbooru), then answers 501:
 * there are no CLIP interrogator (BLIP + CLIP ViT-L/14 + term lists) or DeepDanbooru weights here.
 * /sdapi/v1/create/* and /sdapi/v1/train/* answer 501 (A1111 answers 200 with an `info` text; training and
 * creating embeddings/hypernetworks are out of scope).
 */
import { InterrogateRequest } from '@sdapi/protocol';
import { ApiError } from '../../services/errors.ts';
import { decodeRequestImage } from '../../services/image-input.ts';
import type { SdApiInstance } from '../../types.ts';

const INTERROGATORS: Record<string, string> = {
  clip: 'the CLIP interrogator needs the BLIP captioning model and CLIP ViT-L/14 with its artist/medium/movement/flavor term lists',
  deepdanbooru: 'DeepDanbooru needs its tagging model weights',
};

const notImplemented = (message: string) => new ApiError('NOT_IMPLEMENTED', message);

export function unavailableRoutes(app: SdApiInstance): void {
  app.post('/sdapi/v1/interrogate', { schema: { body: InterrogateRequest } }, async (req) => {
    const { image, model } = req.body as { image?: string | null; model?: string | null };
    if (image === null || image === undefined) throw new ApiError('NOT_FOUND', 'Image not found');
    await decodeRequestImage(image, app.sd.options.effective(), { maxPixels: app.sd.limits.maxImagePixels });
    const why = INTERROGATORS[model ?? 'clip'];
    if (!why) throw new ApiError('NOT_FOUND', 'Model not found');
    throw notImplemented(`interrogate with model ${JSON.stringify(model ?? 'clip')} is not implemented by this server: ${why}, and none are available here`);
  });
  for (const kind of ['embedding', 'hypernetwork']) {
    app.post(`/sdapi/v1/create/${kind}`, async () => {
      throw notImplemented(
        `creating a ${kind} (POST /sdapi/v1/create/${kind}) is not implemented by this server; create it with A1111 or another trainer and put the file in its models folder`,
      );
    });
    app.post(`/sdapi/v1/train/${kind}`, async () => {
      throw notImplemented(
        `training a ${kind} (POST /sdapi/v1/train/${kind}) is not implemented by this server (no training loop); train with A1111, kohya_ss or another trainer`,
      );
    });
  }
}
