/**
 * Parsed results, like webuiapi's `WebUIApiResult(images, parameters, info, json)`: decoded images and the
 * `info` object, from any of the image routes' responses.
 */
import type { Txt2ImgInfo } from '@sdapi/protocol';
import { decodeImage } from './images.ts';

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

export interface ParsedResult<Info = Txt2ImgInfo | string> {
  /** Every image as bytes (`images[]`, or the single `image` of extra-single-image). */
  images: Uint8Array[];
  /** `info` parsed when it is JSON (generations), else `html_info` (extras) or `caption` (interrogate). */
  info: Info;
  /** The echoed request (`parameters`), or `{}`. */
  parameters: Record<string, unknown>;
  /** The response as received. */
  json: unknown;
}

/** Any image route's response → decoded images and parsed info (webuiapi's result mapping). */
export function parseResult(response: object): ParsedResult {
  const r = response as {
    images?: string[] | null;
    image?: string | null;
    info?: unknown;
    html_info?: string;
    caption?: string | null;
    parameters?: Record<string, unknown>;
  };
  const b64 = r.images ?? (typeof r.image === 'string' ? [r.image] : []);
  let info: Txt2ImgInfo | string = '';
  if (typeof r.info === 'string') {
    try {
      info = parseInfo(r.info);
    } catch {
      info = r.info; // png-info: the infotext itself
    }
  } else if (typeof r.html_info === 'string') info = r.html_info;
  else if (typeof r.caption === 'string') info = r.caption;
  return { images: b64.map(decodeImage), info, parameters: r.parameters ?? {}, json: response };
}
