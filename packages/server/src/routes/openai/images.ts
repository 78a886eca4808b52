/**
 * OpenAI-compatible `POST /v1/images/generations` and `GET /v1/models` for LLM front-ends (open-webui,
 * LibreChat, SillyTavern): the same queue and auth as everything else, errors in OpenAI's body shape.
 */
import { ImageGenerateRequest, ImagesResponse, OpenAIModelList } from '@sdapi/protocol';
import type { FastifyRequest } from 'fastify';
import { STATUS_BY_CODE } from '../../plugins/errors.ts';
import { ApiError, type ApiErrorCode } from '../../services/errors.ts';
import { imageView } from '../../services/jobs/ids.ts';
import { toModelList, toOpenAIError, toTxt2ImgBody } from '../../services/openai-images.ts';
import type { SdApiInstance } from '../../types.ts';

export async function openaiRoutes(app: SdApiInstance): Promise<void> {
  await app.register(async (scope: SdApiInstance) => {
    scope.setErrorHandler((error, request, reply) => {
      const { status, body } = toOpenAIError(error, (code) => STATUS_BY_CODE[code as ApiErrorCode]);
      if (status >= 500) request.log.error({ err: error }, 'OpenAI-compatible request failed');
      if (error instanceof ApiError) reply.headers(error.headers);
      return reply.status(status).send(body);
    });
    scope.get('/v1/models', { schema: { tags: ['openai'], summary: 'Checkpoints as OpenAI models', response: { 200: OpenAIModelList } } }, async () =>
      toModelList(await app.sd.generator.listCheckpoints()),
    );
    scope.post(
      '/v1/images/generations',
      {
        schema: {
          tags: ['openai'],
          summary: 'OpenAI images.generate on the same queue (b64_json or url)',
          body: ImageGenerateRequest,
          response: { 200: ImagesResponse },
        },
      },
      async (req, reply) => {
        const { body, format } = toTxt2ImgBody(req.body, await app.sd.generator.listCheckpoints());
        const handle = await app.sd.jobs.submit({ type: 'txt2img', request: body, source: 'openai' });
        reply.header('x-job-id', handle.record.id);
        const { record } = await handle.done;
        const images = record.result?.images ?? [];
        const data = await Promise.all(
          images.map(async (image) => {
            if (format === 'url') return { url: absoluteUrl(req, imageView(record.id, image).url) };
            const found = await app.sd.jobs.image(record.id, image.index);
            return { b64_json: Buffer.from(found?.bytes ?? []).toString('base64') };
          }),
        );
        return { created: Math.floor(record.createdAt / 1000), data };
      },
    );
  });
}

function absoluteUrl(req: FastifyRequest, path: string): string {
  return `${req.protocol}://${req.host}${path}`;
}
