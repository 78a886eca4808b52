/** POST /sdapi/v1/txt2img (spec §3.1): a job in the one queue, answered synchronously with its id in `X-Job-Id`. */
import { Txt2ImgRequest, Txt2ImgResponse } from '@sdapi/protocol';
import { encodeOutputImages } from '../../services/image-output.ts';
import { applyInfotext } from '../../services/infotext-request.ts';
import { REMOTE_OUTPUT } from '../../services/jobs/job-service.ts';
import { type Txt2ImgPrepared, validateBody } from '../../services/jobs/kinds.ts';
import { remoteSyncResponse } from '../../services/jobs/redis/remote-response.ts';
import { toTxt2ImgJob, toTxt2ImgResponse } from '../../services/mapping.ts';
import { scriptEnv } from '../../services/scripts/env.ts';
import { checkAlwaysOn, prepareScript, selectsScript } from '../../services/scripts/registry.ts';
import type { SdApiInstance } from '../../types.ts';

/** The route's request → job mapping; v2 and OpenAI txt2img jobs go through it too (definePrepare below). */
export async function prepareTxt2Img(app: SdApiInstance, request: Txt2ImgRequest): Promise<Txt2ImgPrepared> {
  const body = applyInfotext(Txt2ImgRequest, request, 'txt2img', await app.sd.infotextContext());
  checkAlwaysOn('txt2img', body.alwayson_scripts);
  const job = toTxt2ImgJob(body, app.sd.options.effective(), app.sd.catalog, { scripts: true });
  job.params.controlNet = await app.controlNet.units(body, app.sd.options.effective());
  // script_name / scripts: checked here (422 before queueing), run inside the job (services/scripts).
  if (selectsScript(body)) job.script = prepareScript(body, job, await scriptEnv(app.sd, 'txt2img'));
  return { body, job };
}

export function txt2imgRoute(app: SdApiInstance): void {
  app.sd.jobs.definePrepare('txt2img', (request) => prepareTxt2Img(app, validateBody(Txt2ImgRequest, request)));
  app.post('/sdapi/v1/txt2img', { schema: { body: Txt2ImgRequest, response: { 200: Txt2ImgResponse } } }, async (req, reply) => {
    const prepared = await prepareTxt2Img(app, req.body);
    const handle = await app.sd.submitTxt2img(req.body, prepared);
    reply.header('x-job-id', handle.record.id);
    const { output, record } = await handle.done;
    const body = prepared.body;
    if ((output as unknown) === REMOTE_OUTPUT) return remoteSyncResponse(app.sd.jobs, record, body); // ran on a cluster worker
    // Encoded after the job with the options then in force (a samples_format override does not apply, §4.3).
    const options = app.sd.options.effective();
    // ControlNet detected maps follow the generated images, as the extension appends them.
    const images = body.send_images === false ? [] : await encodeOutputImages([...output.images, ...(output.detectedMaps ?? [])], options);
    return toTxt2ImgResponse(body, output, { options, version: app.sd.version, images });
  });
}
