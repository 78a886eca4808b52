/**
 * OpenAI's image API on top of the A1111 one (pure): an `images.generate` body → an A1111 txt2img body, the
 * checkpoints as OpenAI models, and our errors in OpenAI's `{error: {message, type, param, code}}` shape.
 */
import { statSync } from 'node:fs';
import type { ImageGenerateRequest, OpenAIErrorBody } from '@sdapi/protocol';
import { findCheckpoint } from './checkpoints.ts';
import { RequestValidationError } from './errors.ts';
import type { CheckpointFile } from './generator.ts';

export type ResponseFormat = 'url' | 'b64_json';

/** An error in OpenAI's terms: it knows its HTTP status and the parameter at fault. */
export class OpenAIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

const MAX_IMAGES = 10;

/**
 * The A1111 txt2img body for an OpenAI request. `model` must name a checkpoint (an id from GET /v1/models or any
 * A1111 alias); it is pinned through `override_settings.sd_model_checkpoint` for this job only.
 */
export function toTxt2ImgBody(req: ImageGenerateRequest, checkpoints: readonly CheckpointFile[]): { body: Record<string, unknown>; format: ResponseFormat } {
  const size = /^(\d+)x(\d+)$/.exec(req.size ?? '512x512');
  if (!size) throw new OpenAIError(400, `size must be "WIDTHxHEIGHT" such as "512x512", got ${JSON.stringify(req.size)}`, 'size');
  const n = req.n ?? 1;
  if (n < 1 || n > MAX_IMAGES) throw new OpenAIError(400, `n must be between 1 and ${MAX_IMAGES}, got ${n}`, 'n');
  const format = req.response_format ?? 'url';
  if (format !== 'url' && format !== 'b64_json')
    throw new OpenAIError(400, `response_format must be "url" or "b64_json", got ${JSON.stringify(format)}`, 'response_format');
  let checkpoint: CheckpointFile | undefined;
  if (req.model) {
    checkpoint = findCheckpoint(checkpoints, req.model);
    const choices = checkpoints.map((c) => c.name).join(', ');
    if (!checkpoint)
      throw new OpenAIError(404, `The model ${JSON.stringify(req.model)} does not exist; available models: ${choices}`, 'model', 'model_not_found');
  }
  const body: Record<string, unknown> = { prompt: req.prompt, batch_size: n, width: Number(size[1]), height: Number(size[2]) };
  const extensions = {
    negative_prompt: req.negative_prompt,
    seed: req.seed,
    steps: req.steps,
    sampler_name: req.sampler_name,
    scheduler: req.scheduler,
    cfg_scale: req.cfg_scale,
  };
  for (const [key, value] of Object.entries(extensions)) if (value !== undefined && value !== null) body[key] = value;
  if (checkpoint) body.override_settings = { sd_model_checkpoint: checkpoint.name };
  return { body, format };
}

/** GET /v1/models: each checkpoint under its file name (stable: the title gains a hash once loaded). */
export function toModelList(checkpoints: readonly CheckpointFile[]) {
  const created = (file: CheckpointFile) => {
    try {
      return Math.floor(statSync(file.filename).mtimeMs / 1000);
    } catch {
      return 0;
    }
  };
  return { object: 'list', data: checkpoints.map((c) => ({ id: c.name, object: 'model', created: created(c), owned_by: 'sdapi' })) };
}

/** Any error → OpenAI's status and body; A1111's 422s become OpenAI's 400s. */
export function toOpenAIError(error: unknown, statusOf: (code: string) => number | undefined): { status: number; body: OpenAIErrorBody } {
  const body = (message: string, type: string, param: string | null, code: string | null) => ({ error: { message, type, param, code } });
  if (error instanceof OpenAIError) return { status: error.status, body: body(error.message, error.type, error.param, error.code) };
  if (error instanceof RequestValidationError) {
    const first = error.issues[0];
    const param = first ? first.loc.slice(1).join('.') || null : null;
    return { status: 400, body: body(error.message, 'invalid_request_error', param, null) };
  }
  const code = (error as { code?: unknown })?.code;
  const status = typeof code === 'string' ? statusOf(code) : undefined;
  if (status === undefined) return { status: 500, body: body('The server had an error while processing your request.', 'server_error', null, null) };
  const openaiStatus = status === 422 ? 400 : status;
  const type = status === 401 ? 'invalid_request_error' : openaiStatus >= 500 ? 'server_error' : 'invalid_request_error';
  const openaiCode = status === 401 ? 'invalid_api_key' : typeof code === 'string' ? code.toLowerCase() : null;
  return { status: openaiStatus, body: body((error as Error).message, type, null, openaiCode) };
}
