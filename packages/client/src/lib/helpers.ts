/** Hand-written helpers for results (kept apart from the generated-style resources, as openai-node does). */
import type { Txt2ImgInfo } from '@sdapi/protocol';
import { decodeBase64 } from '../internal/base64.ts';

/** A base64 image from `images[]` (a `data:` prefix is tolerated) → its bytes (PNG by default). */
export function decodeImage(b64: string): Uint8Array {
  return decodeBase64(b64);
}

/**
 * The `info` string of a txt2img/img2img response → an object. A1111 writes it with Python's json.dumps, which
 * may contain the bare tokens NaN/Infinity; they become null here rather than failing the parse.
 */
export function parseInfo(info: string): Txt2ImgInfo {
  try {
    return JSON.parse(info) as Txt2ImgInfo;
  } catch {
    const sanitised = info.replace(/"(?:\\.|[^"\\])*"|-?\bInfinity\b|\bNaN\b/g, (t) => (t.startsWith('"') ? t : 'null'));
    return JSON.parse(sanitised) as Txt2ImgInfo;
  }
}
