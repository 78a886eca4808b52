/**
 * `/sdapi/v2/jobs`: submit any generation as an async job (202 + Location), list, read, cancel, and fetch its
 * images by URL. The jobs share the one queue with the A1111 routes.
 */
import { Readable } from 'node:stream';
import { Job, JobCreateRequest, JobList, JobListQuery } from '@sdapi/protocol';
import Type from 'typebox';
import { ApiError } from '../../services/errors.ts';
import { replayRequest } from '../../services/jobs/inputs.ts';
import { inputKey } from '../../services/jobs/types.ts';
import { encodeCursor, jobView, toJobFilter, toSubmitSpec } from '../../services/jobs/views.ts';
import type { SdApiInstance } from '../../types.ts';

const JobParams = Type.Object({ id: Type.String() });
const ImageParams = Type.Object({ id: Type.String(), index: Type.Integer() });
const InputParams = Type.Object({
  id: Type.String(),
  field: Type.Union([Type.Literal('init_images'), Type.Literal('mask'), Type.Literal('image'), Type.Literal('imageList')]),
  index: Type.Integer(),
});
/** `preview: true` means a preview every this many steps (A1111's `show_progress_every_n_steps` default). */
const PREVIEW_EVERY = 10;

export function jobRoutes(app: SdApiInstance): void {
  const jobs = app.sd.jobs;
  const view = (id: string) => {
    const record = jobs.get(id);
    if (!record) throw new ApiError('NOT_FOUND', `no job with id ${JSON.stringify(id)} (it may have been removed by the retention sweep)`);
    return jobView(record, jobs.queuePosition(id));
  };

  app.post(
    '/sdapi/v2/jobs',
    { schema: { tags: ['jobs'], summary: 'Submit a generation as an async job (202 + Location)', body: JobCreateRequest, response: { 202: Job } } },
    async (req, reply) => {
      const spec = toSubmitSpec(req.body, PREVIEW_EVERY);
      if (spec.webhook) await jobs.webhooks?.validateTarget(spec.webhook.url);
      const { record } = await jobs.submit(spec);
      const location = `/sdapi/v2/jobs/${encodeURIComponent(record.id)}`;
      return reply.code(202).header('location', location).header('x-job-id', record.id).send(view(record.id));
    },
  );

  app.get(
    '/sdapi/v2/jobs',
    { schema: { tags: ['jobs'], summary: 'List jobs, newest first (cursor pages)', querystring: JobListQuery, response: { 200: JobList } } },
    async (req) => {
      const filter = toJobFilter(req.query);
      const page = jobs.store.list({ ...filter, limit: filter.limit + 1 });
      const more = page.length > filter.limit;
      const shown = page.slice(0, filter.limit);
      return { jobs: shown.map((r) => jobView(r, jobs.queuePosition(r.id))), next_cursor: more ? encodeCursor(shown[shown.length - 1].seq) : null };
    },
  );

  app.get('/sdapi/v2/jobs/:id', { schema: { tags: ['jobs'], summary: 'One job', params: JobParams, response: { 200: Job } } }, async (req) =>
    view(req.params.id),
  );

  app.delete(
    '/sdapi/v2/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a queued job at once (200) or a running one at its next step (202); 409 once finished',
        params: JobParams,
        response: { 200: Job, 202: Job },
      },
    },
    async (req, reply) => {
      const record = await jobs.cancel(req.params.id);
      // A running job stops at the engine's next step check: 202 until then, 200 once it is cancelled.
      return reply.code(record.status === 'running' ? 202 : 200).send(view(record.id));
    },
  );

  app.get(
    '/sdapi/v2/jobs/:id/images/:index',
    { schema: { tags: ['jobs'], summary: 'Image bytes of a finished job (ETag, infotext in the PNG)', params: ImageParams, produces: ['image/png'] } },
    async (req, reply) => {
      const found = await jobs.image(req.params.id, req.params.index);
      if (!found) throw new ApiError('NOT_FOUND', `job ${JSON.stringify(req.params.id)} has no image ${req.params.index}`);
      reply.header('etag', found.image.etag).header('cache-control', 'private, max-age=31536000, immutable');
      if (req.headers['if-none-match'] === found.image.etag) return reply.code(304).send();
      // A stream, not a Buffer: the bytes go out exactly as stored (the wire plugin gzips string/Buffer bodies).
      reply.header('content-type', found.image.mime).header('content-length', found.bytes.length);
      return reply.send(Readable.from([Buffer.from(found.bytes)]));
    },
  );

  app.get(
    '/sdapi/v2/jobs/:id/inputs/:field/:index',
    {
      schema: {
        tags: ['jobs'],
        summary: 'An input image kept with a finished img2img or extras job (lossless PNG)',
        params: InputParams,
        produces: ['image/png'],
      },
    },
    async (req, reply) => {
      const { id, field, index } = req.params;
      const record = jobs.get(id);
      const input = record?.inputs?.find((i) => i.field === field && i.index === index);
      const bytes = record && input ? await jobs.store.readInput(record, inputKey(input.field, input.index)) : undefined;
      if (!input || !bytes) throw new ApiError('NOT_FOUND', `job ${JSON.stringify(id)} has no kept ${field} image ${index}`);
      reply.header('etag', input.etag).header('cache-control', 'private, max-age=31536000, immutable');
      if (req.headers['if-none-match'] === input.etag) return reply.code(304).send();
      reply.header('content-type', input.mime).header('content-length', bytes.length);
      return reply.send(Readable.from([Buffer.from(bytes)]));
    },
  );

  app.post(
    '/sdapi/v2/jobs/:id/replay',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Run a succeeded job again exactly: its effective request and kept inputs (202)',
        params: JobParams,
        response: { 202: Job },
      },
    },
    async (req, reply) => {
      const original = jobs.get(req.params.id);
      if (!original) throw new ApiError('NOT_FOUND', `no job with id ${JSON.stringify(req.params.id)} (it may have been removed by the retention sweep)`);
      const request = await replayRequest(jobs.store, original);
      const { record } = await jobs.submit({ type: original.type, request, priority: original.priority, source: 'v2' });
      const location = `/sdapi/v2/jobs/${encodeURIComponent(record.id)}`;
      return reply.code(202).header('location', location).header('x-job-id', record.id).send(view(record.id));
    },
  );
}
