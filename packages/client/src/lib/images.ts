/**
 * Images in and out of the API: base64 (what A1111 returns, no `data:` prefix) ⇄ bytes and Blobs, and the data
 * URLs A1111 accepts in requests (`data:image/png;base64,…`, spec §1.9). Only web platform APIs (atob/btoa, Blob).
 */
import { decodeBase64, encodeBase64Bytes } from '../internal/base64.ts';

/**
 * What the helpers accept as an image: bytes, a Blob/File, or a string that is base64, a data URL or an
 * http(s) URL (A1111 fetches those itself when its `api_enable_requests` option allows).
 */
export type ImageInput = Uint8Array | ArrayBuffer | Blob | string;

/** A base64 image from a response (a `data:` prefix is tolerated) → its bytes (PNG by default). */
export function decodeImage(b64: string): Uint8Array {
  return decodeBase64(b64);
}

/** A base64 image from a response → a Blob with its sniffed type (for `<img src=URL.createObjectURL(blob)>`). */
export function imageToBlob(b64: string, type?: string): Blob {
  const bytes = decodeImage(b64);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: type ?? sniffImageType(bytes) ?? 'application/octet-stream' });
}

/** The MIME type from the first bytes: PNG, JPEG, WEBP or GIF, else undefined. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return undefined;
}

/** An image → raw base64 (no prefix), as ControlNet units want it. URLs are passed through unchanged. */
export async function imageToBase64(input: ImageInput): Promise<string> {
  if (typeof input === 'string') return input.startsWith('data:') ? input.slice(input.indexOf(',') + 1) : input;
  return encodeBase64Bytes(await toBytes(input));
}

/**
 * An image → `data:<type>;base64,…`, as webuiapi sends init images, masks and extras inputs. Strings that
 * already are data or http(s) URLs pass unchanged; raw base64 strings get the prefix.
 */
export async function imageToDataURL(input: ImageInput, type?: string): Promise<string> {
  if (typeof input === 'string') {
    if (input.startsWith('data:') || /^https?:\/\//i.test(input)) return input;
    return `data:${type ?? sniffBase64(input) ?? 'image/png'};base64,${input}`;
  }
  const bytes = await toBytes(input);
  const mime = type ?? (input instanceof Blob && input.type.startsWith('image/') ? input.type : undefined) ?? sniffImageType(bytes) ?? 'image/png';
  return `data:${mime};base64,${encodeBase64Bytes(bytes)}`;
}

function sniffBase64(b64: string): string | undefined {
  try {
    return sniffImageType(decodeBase64(b64.replace(/\s+/g, '').slice(0, 16)));
  } catch {
    return undefined; // not base64 at all: the server reports it (A1111: 500 "Invalid encoded image")
  }
}

async function toBytes(input: Uint8Array | ArrayBuffer | Blob): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  throw new TypeError(`image: expected a Uint8Array, ArrayBuffer, Blob or base64 string, got ${Object.prototype.toString.call(input)}`);
}
