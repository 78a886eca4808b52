/**
 * The A1111 answer (`{images, parameters, info}`) of a sync route whose job ran on another worker (issue 15): the
 * engine's own output stayed there, so it is built from the stored record, the same PNGs (with their infotext)
 * that `/sdapi/v2/jobs/{id}/images/{i}` serves. ControlNet detected maps are not stored and so not returned.
 */
import type { JobRecord } from '../types.ts';
import type { JobService } from '../job-service.ts';

export async function remoteSyncResponse(jobs: JobService, record: JobRecord, body: { send_images?: boolean }) {
  const images: string[] = [];
  if (body.send_images !== false) {
    for (const image of record.result?.images ?? []) {
      const found = await jobs.image(record.id, image.index);
      if (found) images.push(Buffer.from(found.bytes).toString('base64'));
    }
  }
  return { images, parameters: body, info: JSON.stringify(record.result?.info ?? {}) };
}
