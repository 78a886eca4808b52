/**
 * Images in requests (spec §1.9, vector base64_decode.json): http(s) URLs fetched under A1111's options
 * (`api_enable_requests`, `api_forbid_local_requests`: every resolved address must be global, and the checked
 * address is the one connected to), `data:image/…;base64,` prefixes cut as A1111 cuts them, lenient base64, then
 * any format the engine's codec reads. Errors keep A1111's details; statuses are 4xx (A1111: 500).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { get as httpGet, type IncomingMessage, type RequestOptions } from 'node:http';
import { get as httpsGet } from 'node:https';
import { isIP } from 'node:net';
import { type DecodedImage, decodeImage, ImageDecodeError, ImageTooLargeError } from '@sdapi/engine';
import ipaddr from 'ipaddr.js';
import { ApiError } from './errors.ts';
import { checkImageHeader, DEFAULT_LIMITS, type ImageKind, imageKind, imageTooLarge } from './limits.ts';

export interface ImageFetchPolicy {
  /** Largest image a URL may return, in bytes (default 64 MiB). */
  maxBytes?: number;
  /** Whole-request timeout in ms (default 30 s, A1111's `timeout=30`). */
  timeoutMs?: number;
  /** Redirects followed, each re-checked (default 5). */
  maxRedirects?: number;
  /** DNS resolution (tests inject one); default node's `dns.lookup` with `all: true`. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  /** Which connected addresses are allowed while local requests are forbidden (default: global unicast only; tests widen it). */
  isAllowedAddress?: (address: string) => boolean;
}

/** How one request image is fetched and decoded: the fetch policy, the pixel limit, the field errors name. */
export interface RequestImagePolicy extends ImageFetchPolicy {
  /**
   * The server's `--max-image-pixels` (RequestLimits.maxImagePixels, `app.sd.limits`): a larger image is a 413,
   * refused from its header before any pixel is decoded. Default DEFAULT_LIMITS.maxImagePixels.
   */
  maxPixels?: number;
  /** The request field the image came in (`init_images.0`, `mask`, …), named in the 413; default `image`. */
  field?: string;
}

const INVALID = 'Invalid encoded image';

/**
 * Decodes one request image string (`init_images[i]`, `mask`, png-info `image`) into RGBA pixels. Whatever way it
 * came (URL, base64, data URL), an image over `policy.maxPixels` is a 413 from its header: the whole file's
 * header here (the preHandler's check sees only the first 96 KiB of base64, and no URL), then the decoder's own.
 * @param options the options in force (`api_enable_requests`, `api_forbid_local_requests`, `api_useragent`)
 */
export async function decodeRequestImage(value: string, options: Record<string, unknown>, policy: RequestImagePolicy = {}): Promise<DecodedImage> {
  const fromUrl = value.startsWith('http://') || value.startsWith('https://');
  if (fromUrl && !options.api_enable_requests) throw new ApiError('IMAGE_URL_NOT_ALLOWED', 'Requests not allowed');
  const invalid = fromUrl ? 'Invalid image url' : INVALID;
  const maxPixels = policy.maxPixels ?? DEFAULT_LIMITS.maxImagePixels;
  const field = policy.field ?? 'image';
  const bytes = fromUrl ? await fetchImageBytes(value, options, { ...policy, maxPixels, field }) : base64Bytes(stripDataUrl(value));
  const kind = realImage(bytes, invalid);
  checkImageHeader(bytes, field, maxPixels);
  try {
    return await decodeImage(bytes, { maxPixels });
  } catch (cause) {
    // A header our parser could not read but libvips could (or its own limit check): the same 413.
    if (cause instanceof ImageTooLargeError) {
      const size = cause.width !== null && cause.height !== null ? { width: cause.width, height: cause.height } : null;
      throw imageTooLarge(field, kind, size, maxPixels);
    }
    if (fromUrl || cause instanceof ImageDecodeError) throw new ApiError('INVALID_IMAGE', invalid, { cause });
    throw cause;
  }
}

/**
 * Only real raster images by their magic bytes (PNG, JPEG, WebP, GIF, BMP; issue 13): the decoder would also read
 * SVG, PDF, TIFF, HEIF and more, formats nobody sends as an init image and with far larger attack surfaces.
 */
function realImage(bytes: Buffer, message: string): ImageKind {
  const kind = imageKind(bytes);
  if (kind) return kind;
  // The detail stays A1111's exact text (clients and the vectors match on it); the reason goes in the cause.
  const head = bytes.subarray(0, 8).toString('hex');
  throw new ApiError('INVALID_IMAGE', message, { cause: new Error(`not a PNG, JPEG, WebP, GIF or BMP image (first bytes: ${head || 'none'})`) });
}

/**
 * `data:image/<type>;base64,<data>` → `<data>`: A1111 takes the part after the first `;`, then the part after its
 * first `,`. So `data:image/png,…` (no `;`) and `data:image/png;charset=x;base64,…` fail (A1111: 500
 * IndexError, here a 400 that says what is expected). Other data URLs are not stripped and fail to decode.
 */
export function stripDataUrl(value: string): string {
  if (!value.startsWith('data:image/')) return value;
  const afterSemicolon = value.split(';')[1];
  const data = afterSemicolon?.split(',')[1];
  if (data === undefined) {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    throw new ApiError(
      'INVALID_IMAGE',
      `${INVALID}: a data URL must look like data:image/<type>;base64,<data> (one parameter, then a comma), got ${JSON.stringify(shown)}`,
    );
  }
  return data;
}

/**
 * Python's non-validating `b64decode`: characters outside the standard alphabet are dropped and decoding stops
 * at padding; a missing final `=` is tolerated (the image decoder decides whether the bytes are whole).
 */
export function base64Bytes(text: string): Buffer {
  const clean = text.replace(/[^A-Za-z0-9+/=]/g, '');
  const pad = clean.indexOf('=');
  return Buffer.from(pad < 0 ? clean : clean.slice(0, pad), 'base64');
}

/** Whether every address is a global unicast one (ipaddr.js `range() === 'unicast'`; IPv4-mapped IPv6 as IPv4). */
export function isGlobalAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  // ::/96 (deprecated IPv4-compatible, e.g. ::7f00:1) is "unicast" to ipaddr.js; no global host lives there.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return false;
  return parsed.range() === 'unicast';
}

const defaultResolve = (hostname: string) =>
  new Promise<LookupAddress[]>((resolve, reject) => dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

/** Fetches a URL's bytes: redirects re-checked, size and time bounded, no status check (A1111 reads any body). */
async function fetchImageBytes(url: string, options: Record<string, unknown>, policy: RequestImagePolicy): Promise<Buffer> {
  const signal = AbortSignal.timeout(policy.timeoutMs ?? 30_000);
  const headers: Record<string, string> = typeof options.api_useragent === 'string' && options.api_useragent ? { 'user-agent': options.api_useragent } : {};
  let current = url;
  for (let hop = 0; ; hop++) {
    let target: URL;
    try {
      target = new URL(current);
    } catch (cause) {
      throw new ApiError('INVALID_IMAGE', `Invalid image url: ${JSON.stringify(current)} is not a URL`, { cause });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new ApiError('INVALID_IMAGE', `Invalid image url: unsupported scheme ${target.protocol} (only http: and https: are fetched)`);
    }
    // One resolution per hop; the connection goes to the address that passed (no second lookup to rebind).
    const address = options.api_forbid_local_requests ? await checkedAddress(target.hostname, policy) : undefined;
    const response = await request(target, { headers, signal, address });
    const location = response.headers.location;
    if (response.statusCode && response.statusCode >= 300 && response.statusCode < 400 && location) {
      response.resume();
      if (hop >= (policy.maxRedirects ?? 5)) throw new ApiError('INVALID_IMAGE', `Invalid image url: more than ${policy.maxRedirects ?? 5} redirects`);
      current = new URL(location, target).toString();
      continue;
    }
    const maxBytes = policy.maxBytes ?? 64 * 1024 * 1024;
    const declared = Number(response.headers['content-length']);
    if (declared > maxBytes) {
      response.destroy();
      throw new ApiError('INVALID_IMAGE', `Invalid image url: the response is larger than ${maxBytes} bytes (Content-Length ${declared})`);
    }
    const maxPixels = policy.maxPixels ?? DEFAULT_LIMITS.maxImagePixels;
    // Done once the size is read (or the bytes are no image at all: realImage refuses them after the download).
    const checkHead = (head: Buffer) => checkImageHeader(head, policy.field ?? 'image', maxPixels) || (head.length >= 32 && !imageKind(head));
    return readBody(response, maxBytes, target, checkHead);
  }
}

/** Resolves the host and refuses it unless every address is global; returns the address to connect to. */
async function checkedAddress(host: string, policy: ImageFetchPolicy): Promise<LookupAddress> {
  const hostname = host.replace(/^\[|\]$/g, '');
  let addresses: LookupAddress[];
  if (isIP(hostname)) addresses = [{ address: hostname, family: isIP(hostname) }];
  else {
    try {
      addresses = await (policy.resolve ?? defaultResolve)(hostname);
    } catch (cause) {
      // A1111 treats a failed resolution as "local" as well.
      throw new ApiError('IMAGE_URL_NOT_ALLOWED', 'Request to local resource not allowed', { cause });
    }
  }
  const allowed = policy.isAllowedAddress ?? isGlobalAddress;
  if (addresses.length === 0 || !addresses.every((a) => allowed(a.address))) {
    throw new ApiError('IMAGE_URL_NOT_ALLOWED', 'Request to local resource not allowed');
  }
  return addresses[0];
}

function request(target: URL, opts: { headers: Record<string, string>; signal: AbortSignal; address?: LookupAddress }): Promise<IncomingMessage> {
  const get = target.protocol === 'https:' ? httpsGet : target.protocol === 'http:' ? httpGet : undefined;
  if (!get) return Promise.reject(new ApiError('INVALID_IMAGE', `Invalid image url: unsupported scheme ${target.protocol}`));
  const pinned = opts.address;
  // Connect to the address that was checked, not to a second DNS answer (no DNS-rebinding window).
  const lookup: RequestOptions['lookup'] = pinned
    ? (_host, options, callback) => {
        if ((options as { all?: boolean }).all) (callback as (e: null, a: LookupAddress[]) => void)(null, [pinned]);
        else (callback as (e: null, a: string, f: number) => void)(null, pinned.address, pinned.family);
      }
    : undefined;
  return new Promise((resolve, reject) => {
    // agent: false — no pooled keep-alive socket (keyed by host name, not address) is ever reused across checks.
    const req = get(target, { headers: opts.headers, signal: opts.signal, lookup, agent: false }, resolve);
    req.on('error', (cause) => reject(fetchFailed(target, cause, opts.signal)));
  });
}

function fetchFailed(target: URL, cause: Error, signal: AbortSignal): ApiError {
  const why = signal.aborted ? 'timed out' : cause.message;
  return new ApiError('INVALID_IMAGE', `Invalid image url: fetching ${target.origin}${target.pathname} failed (${why})`, { cause });
}

/** The first bytes of a download in which the image header is looked for (a JPEG's SOF may follow its EXIF). */
const HEADER_WINDOW = 1024 * 1024;

/**
 * Reads the body up to `maxBytes`. `checkHead` sees the bytes so far, until it answers true (done) or they pass
 * HEADER_WINDOW: an image whose header claims too many pixels is refused, and the download cut, as soon as that
 * header has arrived.
 */
function readBody(response: IncomingMessage, maxBytes: number, target: URL, checkHead: (head: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let headDone = false;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        return reject(new ApiError('INVALID_IMAGE', `Invalid image url: the response is larger than ${maxBytes} bytes`));
      }
      chunks.push(chunk);
      if (!headDone && size - chunk.length < HEADER_WINDOW) {
        try {
          headDone = checkHead(Buffer.concat(chunks));
        } catch (error) {
          response.destroy();
          reject(error);
        }
      }
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('close', () => {
      if (!response.complete) reject(new ApiError('INVALID_IMAGE', `Invalid image url: the connection to ${target.origin} closed early (timed out or reset)`));
    });
    response.on('error', (cause) =>
      reject(new ApiError('INVALID_IMAGE', `Invalid image url: reading ${target.origin}${target.pathname} failed (${cause.message})`, { cause })),
    );
  });
}
