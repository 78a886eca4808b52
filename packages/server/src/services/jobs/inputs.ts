/**
 * Input images kept with a job (img2img's `init_images` and `mask`, extras' images), so that a finished job can be replayed
 * exactly: the stored request and `result.parameters` leave the pixels out (they would bloat the journal and
 * every job listing), and the pixels live beside the result images as lossless RGBA PNGs of what the engine
 * saw (decoded, EXIF-oriented, fetched when given by URL). A client replays a job by putting the inputs back
 * into `result.parameters` (`init_images[i]`, `mask` as base64 or data URLs) and posting it, or with
 * `POST /sdapi/v2/jobs/{id}/replay`, which does exactly that on the server (see docs/jobs.md).
 */
import { encodePng, encodePngRgba } from '@sdapi/engine';
import { ApiError } from '../errors.ts';
import { etagOf } from './embedded-store.ts';
import { inputKey, type JobRecord, type JobStore, type StoredInput } from './types.ts';

/** One input as a job kind hands it over: RGB or RGBA pixels, and text chunks to keep (extras keep `parameters`). */
export interface JobInput {
  field: StoredInput['field'];
  index: number;
  image: { width: number; height: number; channels: 3 | 4; data: Uint8Array };
  text?: Record<string, string>;
}

/** Writes the inputs to the store (before the record that lists them is put) and returns their metadata. */
export async function keepInputs(store: JobStore, record: JobRecord, inputs: readonly JobInput[]): Promise<StoredInput[] | undefined> {
  if (inputs.length === 0) return undefined;
  const kept: StoredInput[] = [];
  for (const { field, index, image, text } of inputs) {
    const encode = image.channels === 4 ? encodePngRgba : encodePng;
    const png = encode(image.data, image.width, image.height, text);
    await store.writeInput(record, inputKey(field, index), png);
    kept.push({ field, index, width: image.width, height: image.height, mime: 'image/png', etag: etagOf(png), size: png.length });
  }
  return kept;
}

/** The wire view of a kept input (its URL is relative to the server root). */
export function inputView(jobId: string, input: StoredInput) {
  const { etag: _etag, size: _size, ...rest } = input;
  return { ...rest, url: `/sdapi/v2/jobs/${encodeURIComponent(jobId)}/inputs/${input.field}/${input.index}` };
}

/**
 * The request that replays a finished job: `result.parameters` with the kept inputs put back as data URLs.
 * 409 when the job has not succeeded.
 */
export async function replayRequest(store: JobStore, record: JobRecord): Promise<Record<string, unknown>> {
  if (record.status !== 'succeeded' || !record.result) {
    throw new ApiError(
      'CONFLICT',
      `job ${record.id} is ${record.status}; only a succeeded job can be replayed (its result.parameters are the effective request)`,
    );
  }
  const request: Record<string, unknown> = structuredClone(record.result.parameters);
  const inputs = record.inputs ?? [];
  if (inputs.some((i) => i.field === 'init_images')) request.init_images = [];
  for (const input of inputs) {
    const bytes = await store.readInput(record, inputKey(input.field, input.index));
    if (!bytes) throw new ApiError('CONFLICT', `job ${record.id}: its ${input.field} image ${input.index} is no longer stored`);
    const url = `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
    if (input.field === 'mask' || input.field === 'image') request[input.field] = url;
    else if (input.field === 'init_images') (request.init_images as string[])[input.index] = url;
    else (request.imageList as { data: string | null }[])[input.index].data = url;
  }
  return request;
}
