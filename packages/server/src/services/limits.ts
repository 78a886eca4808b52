/**
 * Limits before work (issue 13 point 5): the documented maxima of a request, checked in a preHandler hook
 * (plugins/limits.ts) after the body is parsed and validated and before any route prepares, queues or decodes
 * anything, so an absurd request costs milliseconds and no tensor is ever allocated for it.
 *
 * - width, height (each side and width × height), of the first pass and of the hires target;
 * - steps (and hires steps), batch_size × n_iter (the images one request makes), prompt lengths;
 * - images in the body: every string that decodes to an image is checked by its magic bytes and its header's
 *   dimensions (PNG IHDR, GIF, BMP, WebP VP8/VP8L/VP8X, JPEG SOFn) before anything decodes it: a 30000×30000
 *   claim is refused from 30 bytes of header;
 * - the body size (fastify's bodyLimit, `--max-body-size`) and a per-client queue quota (`--max-queued-per-client`).
 *
 * The same fields are checked wherever they arrive: the A1111 routes' bodies, `params` of `/sdapi/v2/jobs`, and
 * OpenAI's `size`/`n`.
 */
import type { ValidationIssue } from '@sdapi/protocol';
import { ApiError, RequestValidationError } from './errors.ts';
import { base64Bytes } from './image-input.ts';

export interface RequestLimits {
  /** Largest width and height of an image made (first pass or hires target), in pixels. */
  maxWidth: number;
  maxHeight: number;
  /** Largest width × height of an image made. */
  maxPixels: number;
  /** Largest `steps` (and `hr_second_pass_steps`). */
  maxSteps: number;
  /** Largest `batch_size × n_iter`: images one request makes. */
  maxBatch: number;
  /** Longest prompt or negative prompt, in characters. */
  maxPromptLength: number;
  /** Largest input image (width × height from its header) a request may carry. */
  maxImagePixels: number;
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Jobs one client (by address) may have queued or running at once; null = no quota. */
  maxQueuedPerClient: number | null;
}

/**
 * Defaults: generous for what a server can actually make (A1111's UI stops at 2048 px, 150 steps, 8 × 100
 * images), tight enough that no single request can exhaust memory.
 */
export const DEFAULT_LIMITS: RequestLimits = {
  maxWidth: 8192,
  maxHeight: 8192,
  maxPixels: 4096 * 4096,
  maxSteps: 1000,
  maxBatch: 800,
  maxPromptLength: 100_000,
  maxImagePixels: 8192 * 8192,
  maxBodyBytes: 256 * 1024 * 1024,
  maxQueuedPerClient: null,
};

/** The flag that sets each limit (messages name it, so an operator knows what to raise). */
export const LIMIT_FLAGS: Record<keyof RequestLimits, string> = {
  maxWidth: '--max-width',
  maxHeight: '--max-height',
  maxPixels: '--max-pixels',
  maxSteps: '--max-steps',
  maxBatch: '--max-batch',
  maxPromptLength: '--max-prompt-length',
  maxImagePixels: '--max-image-pixels',
  maxBodyBytes: '--max-body-size',
  maxQueuedPerClient: '--max-queued-per-client',
};

/** The limits as `/sdapi/v2/capabilities` reports them (null = not limited). */
export function capabilityLimitFields(limits: RequestLimits): Record<string, number | null> {
  return {
    max_width: limits.maxWidth,
    max_height: limits.maxHeight,
    max_pixels: limits.maxPixels,
    max_steps: limits.maxSteps,
    max_batch_size: limits.maxBatch,
    max_prompt_length: limits.maxPromptLength,
    max_image_pixels: limits.maxImagePixels,
    max_queued_per_client: limits.maxQueuedPerClient,
  };
}

type Body = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function tooLarge(loc: (string | number)[], value: unknown, limit: number, flag: string, what = 'this value'): ValidationIssue {
  return {
    loc,
    msg: `ensure ${what} is less than or equal to ${limit} (the server's ${flag}), got ${JSON.stringify(value)}`,
    type: 'value_error.number.not_le',
    ctx: { limit_value: limit },
  } as ValidationIssue;
}

/** Issues for one A1111 generation body (txt2img/img2img fields) found at `loc`. */
export function generationIssues(body: Body, limits: RequestLimits, loc: (string | number)[] = ['body']): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const width = num(body.width);
  const height = num(body.height);
  const size = (w: number | undefined, h: number | undefined, wField: string, hField: string, label: string) => {
    if (w !== undefined && w > limits.maxWidth) issues.push(tooLarge([...loc, wField], w, limits.maxWidth, LIMIT_FLAGS.maxWidth, `the ${label} width`));
    if (h !== undefined && h > limits.maxHeight) issues.push(tooLarge([...loc, hField], h, limits.maxHeight, LIMIT_FLAGS.maxHeight, `the ${label} height`));
    if (w !== undefined && h !== undefined && w * h > limits.maxPixels && w <= limits.maxWidth && h <= limits.maxHeight) {
      issues.push(tooLarge([...loc, wField], `${w}x${h}`, limits.maxPixels, LIMIT_FLAGS.maxPixels, `the ${label} width × height`));
    }
  };
  size(width, height, 'width', 'height', 'image');
  if (body.enable_hr === true) {
    // The hires target: hr_resize_x/y when given (one of them 0 keeps the aspect), else width/height × hr_scale.
    const scale = num(body.hr_scale) ?? 2;
    const rx = num(body.hr_resize_x) ?? 0;
    const ry = num(body.hr_resize_y) ?? 0;
    const w0 = width ?? 512;
    const h0 = height ?? 512;
    let tw = w0 * scale;
    let th = h0 * scale;
    if (rx > 0 || ry > 0) {
      tw = rx > 0 ? rx : (ry * w0) / h0;
      th = ry > 0 ? ry : (rx * h0) / w0;
    }
    const field = rx > 0 || ry > 0 ? ['hr_resize_x', 'hr_resize_y'] : ['hr_scale', 'hr_scale'];
    size(Math.round(tw), Math.round(th), field[0], field[1], 'hires');
  }
  for (const field of ['steps', 'hr_second_pass_steps']) {
    const steps = num(body[field]);
    if (steps !== undefined && steps > limits.maxSteps) issues.push(tooLarge([...loc, field], steps, limits.maxSteps, LIMIT_FLAGS.maxSteps));
  }
  const batch = num(body.batch_size) ?? 1;
  const iterations = num(body.n_iter) ?? 1;
  if (batch * iterations > limits.maxBatch) {
    const field = batch > limits.maxBatch || iterations <= 1 ? 'batch_size' : 'n_iter';
    issues.push(tooLarge([...loc, field], batch * iterations, limits.maxBatch, LIMIT_FLAGS.maxBatch, 'batch_size × n_iter'));
  }
  for (const field of ['prompt', 'negative_prompt', 'hr_prompt', 'hr_negative_prompt']) {
    const text = body[field];
    if (typeof text === 'string' && text.length > limits.maxPromptLength) {
      issues.push(tooLarge([...loc, field], `${text.length} characters`, limits.maxPromptLength, LIMIT_FLAGS.maxPromptLength, 'the length'));
    }
  }
  return issues;
}

/** OpenAI `images.generate`: `size` "WxH", `n`, `prompt`. */
function openaiIssues(body: Body, limits: RequestLimits): ValidationIssue[] {
  const size = typeof body.size === 'string' ? /^(\d+)x(\d+)$/.exec(body.size) : null;
  const issues = generationIssues({ prompt: body.prompt, ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}) }, limits);
  for (const issue of issues) if (issue.loc[1] === 'width' || issue.loc[1] === 'height') issue.loc[1] = 'size';
  const n = num(body.n);
  if (n !== undefined && n > limits.maxBatch) issues.push(tooLarge(['body', 'n'], n, limits.maxBatch, LIMIT_FLAGS.maxBatch));
  return issues;
}

/** Throws a 422 (FastAPI's body) naming every field over its limit, for a request to `url`. */
export function checkRequestLimits(url: string | undefined, body: unknown, limits: RequestLimits): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const b = body as Body;
  let issues: ValidationIssue[];
  if (url === '/v1/images/generations') issues = openaiIssues(b, limits);
  else if (url === '/sdapi/v2/jobs') issues = b.params && typeof b.params === 'object' ? generationIssues(b.params as Body, limits, ['body', 'params']) : [];
  else issues = generationIssues(b, limits);
  if (issues.length > 0) throw new RequestValidationError(issues);
}

/** Image formats accepted as inputs, by their magic bytes (what A1111 users send: PNG, JPEG, WebP, GIF, BMP). */
export type ImageKind = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp';

export function imageKind(bytes: Uint8Array): ImageKind | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a)
    return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return null;
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Width and height from the header alone (no decoding), or null when the header is not readable. */
export function imageHeaderSize(bytes: Uint8Array): { width: number; height: number } | null {
  const kind = imageKind(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const has = (n: number) => bytes.length >= n;
  switch (kind) {
    case 'png':
      return has(24) && ascii(bytes, 12, 4) === 'IHDR' ? { width: view.getUint32(16), height: view.getUint32(20) } : null;
    case 'gif':
      return has(10) ? { width: view.getUint16(6, true), height: view.getUint16(8, true) } : null;
    case 'bmp':
      return { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) };
    case 'webp': {
      const chunk = has(16) ? ascii(bytes, 12, 4) : '';
      if (chunk === 'VP8 ' && has(30)) return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
      if (chunk === 'VP8L' && has(25)) {
        const bits = view.getUint32(21, true);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
      }
      if (chunk === 'VP8X' && has(30)) {
        const w = bytes[24] | (bytes[25] << 8) | (bytes[26] << 16);
        const h = bytes[27] | (bytes[28] << 8) | (bytes[29] << 16);
        return { width: w + 1, height: h + 1 };
      }
      return null;
    }
    case 'jpeg':
      return jpegSize(bytes, view);
    default:
      return null;
  }
}

/** Walks the JPEG markers to the first SOFn frame header (without decoding anything). */
function jpegSize(bytes: Uint8Array, view: DataView): { width: number; height: number } | null {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = view.getUint16(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { width: view.getUint16(at + 7), height: view.getUint16(at + 5) };
    at += 2 + length;
  }
  return null;
}

/** Strings in a body that may carry an image: base64 or `data:image/…` of some size; URLs are the fetcher's. */
const MIN_IMAGE_CHARS = 32;
const MAX_DEPTH = 8;

/**
 * Refuses (413) any image in the body whose header claims more than `maxPixels` pixels, before anything decodes
 * it. Only strings that decode to a known image signature are checked: everything else is left to the route.
 */
export function checkBodyImages(body: unknown, maxPixels: number): void {
  const visit = (value: unknown, loc: string[], depth: number) => {
    if (depth > MAX_DEPTH || value === null || typeof value !== 'object') {
      if (typeof value === 'string' && value.length >= MIN_IMAGE_CHARS) checkImageString(value, loc, maxPixels);
      return;
    }
    if (Array.isArray(value)) for (const [i, v] of value.entries()) visit(v, [...loc, String(i)], depth + 1);
    else for (const [k, v] of Object.entries(value)) visit(v, [...loc, k], depth + 1);
  };
  visit(body, ['body'], 0);
}

function checkImageString(value: string, loc: string[], maxPixels: number): void {
  if (value.startsWith('http://') || value.startsWith('https://')) return; // checked when fetched (image-input.ts)
  const comma = value.startsWith('data:') ? value.indexOf(',') : -1;
  // The header is in the first bytes for every format but JPEG (EXIF may come first): 96 KiB of base64 holds the
  // SOF of all but a pathological file; that one is refused (same 413) when decodeRequestImage reads the whole.
  const head = base64Bytes(value.slice(comma + 1, comma + 1 + 96 * 1024));
  checkImageHeader(head, loc.join('.'), maxPixels);
}

/**
 * Throws the 413 of an image over `--max-image-pixels` when `bytes` (all of it or its start) show such a header.
 * @returns whether the header's size was read (false: no image signature, or the size not within `bytes`)
 */
export function checkImageHeader(bytes: Uint8Array, field: string, maxPixels: number): boolean {
  const kind = imageKind(bytes);
  if (!kind) return false;
  const size = imageHeaderSize(bytes);
  if (size && size.width * size.height > maxPixels) throw imageTooLarge(field, kind, size, maxPixels);
  return size !== null;
}

/**
 * The 413 for an input image over `--max-image-pixels`: the field, the format, the size when known, the limit and
 * the flag (rendered as every ApiError, `{error, detail, body, errors}`).
 */
export function imageTooLarge(field: string, kind: string, size: { width: number; height: number } | null, maxPixels: number): ApiError {
  const image = `${field}: the ${kind.toUpperCase()} image`;
  const claim = size ? `${image} is ${size.width}x${size.height} (${size.width * size.height} pixels);` : `${image} has more pixels than allowed:`;
  return new ApiError('PAYLOAD_TOO_LARGE', `${claim} this server decodes at most ${maxPixels} pixels (${LIMIT_FLAGS.maxImagePixels})`);
}

/** The limits in force: the defaults, overridden by `--max-*` flags; the body size is fastify's bodyLimit. */
export function resolveLimits(given: Partial<RequestLimits> | undefined, bodyLimit: number | undefined): RequestLimits {
  const limits = { ...DEFAULT_LIMITS, ...given };
  if (bodyLimit !== undefined) limits.maxBodyBytes = bodyLimit;
  for (const [key, value] of Object.entries(limits) as [keyof RequestLimits, number | null][]) {
    if (value === null && key === 'maxQueuedPerClient') continue;
    if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Error(`${LIMIT_FLAGS[key]}: expected a positive integer, got ${value}`);
  }
  return limits;
}
