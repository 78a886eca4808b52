/** Job ids (client-chosen, A1111's task ids, UUIDs) and the public URL of a stored image. */
import { randomInt, randomUUID } from 'node:crypto';
import type { JobType } from '@sdapi/protocol';
import { ApiError } from '../errors.ts';
import type { JobSource, StoredImage } from './types.ts';

/** Client-chosen v2 ids: URL- and file-safe, and never all digits or with `:` (BullMQ custom-id rules). */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~()-]{0,127}$/;

/**
 * The id of a new job: the one asked for (checked for v2; A1111's `force_task_id` is taken as sent), else
 * A1111's `task(<type>-XXXXXXX)` for the A1111 routes and a UUID for the others. Uniqueness is the caller's.
 */
export function jobId(wanted: string | null, source: JobSource, type: JobType): string {
  if (wanted === null || wanted === '') return source === 'sdapi' ? a1111TaskId(type) : randomUUID();
  if (source === 'v2' && (!CLIENT_ID.test(wanted) || /^\d+$/.test(wanted))) {
    const message = `id ${JSON.stringify(wanted)} is not a valid job id: use 1-128 characters from A-Z a-z 0-9 . _ ~ ( ) -, starting with a letter or digit, not all digits`;
    throw new ApiError('INVALID_PARAMS', message);
  }
  return wanted;
}

/** A1111's default task id: `task(txt2img-XXXXXXX)` with 7 characters from A-Z0-9 (spec §3.1.2). */
function a1111TaskId(type: JobType): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const suffix = Array.from({ length: 7 }, () => alphabet[randomInt(alphabet.length)]).join('');
  return `task(${type.startsWith('extra-') ? 'extras' : type}-${suffix})`;
}

/** The wire view of a stored image (its URL is relative to the server root). */
export function imageView(jobId: string, image: StoredImage) {
  const { etag: _etag, size: _size, ...rest } = image;
  return { ...rest, url: `/sdapi/v2/jobs/${encodeURIComponent(jobId)}/images/${image.index}` };
}
