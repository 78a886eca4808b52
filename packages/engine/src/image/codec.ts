/**
 * Image files ↔ pixels through sharp (libvips), for the formats A1111 accepts and writes: any format sharp reads
 * (PNG, JPEG, WEBP, GIF, TIFF, AVIF, …) decodes to 8-bit RGBA with the EXIF orientation applied (A1111 runs
 * Pillow's `exif_transpose`) and palette/grey/transparency expanded; output is PNG (with text chunks, via
 * png.ts), JPEG or WEBP (infotext in EXIF UserComment, spec §1.10).
 */
import sharp from 'sharp';
import { insertJpegExif, insertWebpExif, readUserComment, userCommentExif } from './exif.ts';
import { encodePng, readTextChunks } from './png.ts';

export interface DecodedImage {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major, after EXIF orientation; alpha 255 where the file has none. */
  rgba: Uint8Array;
  /** Whether the file has an alpha channel or transparency (Pillow would open it as RGBA/LA/P+transparency). */
  hasAlpha: boolean;
  /** sharp's format name: 'png', 'jpeg', 'webp', 'gif', 'tiff', … */
  format: string;
  /** PNG text chunks (tEXt/zTXt/iTXt) by keyword; empty for other formats. */
  text: Record<string, string>;
  /** The EXIF UserComment text (A1111's infotext in JPEG/WEBP), '' when absent. */
  userComment: string;
}

export class ImageDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageDecodeError';
  }
}

/** The image's header claims more pixels than the caller's `maxPixels`: refused before any pixel is decoded. */
export class ImageTooLargeError extends ImageDecodeError {
  constructor(
    /** From the header; null when only libvips' own check saw it (no readable size). */
    readonly width: number | null,
    readonly height: number | null,
    readonly maxPixels: number,
    /** sharp's format name ('png', 'jpeg', …), or 'unknown'. */
    readonly format: string,
    options?: { cause?: unknown },
  ) {
    const size = width !== null && height !== null ? `${width}x${height} (${width * height} pixels)` : 'larger than the limit';
    super(`the ${format.toUpperCase()} image is ${size}; at most ${maxPixels} pixels are decoded`, options);
    this.name = 'ImageTooLargeError';
  }
}

/** Default `maxPixels` of decodeImage when the caller gives none (the server passes its `--max-image-pixels`). */
export const DEFAULT_MAX_DECODE_PIXELS = 16384 * 16384;

/**
 * Decodes an image file of any format sharp reads. Throws ImageDecodeError when the bytes are not an image, and
 * ImageTooLargeError (a subclass) when its header claims more than `maxPixels` pixels: the size is read from the
 * header (sharp's metadata, no pixel decoded) and libvips' `limitInputPixels` stays on for the decode itself.
 * @example const { width, height, rgba } = await decodeImage(readFileSync('init.jpg'), { maxPixels: 8192 * 8192 });
 */
export async function decodeImage(bytes: Uint8Array, options: { maxPixels?: number } = {}): Promise<DecodedImage> {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limitInputPixels = options.maxPixels ?? DEFAULT_MAX_DECODE_PIXELS;
  try {
    // Header only, without the limit: sharp's own refusal ("Input image exceeds pixel limit") carries no size.
    const meta = await sharp(input, { limitInputPixels: false }).metadata();
    if (meta.width && meta.height && meta.width * meta.height > limitInputPixels) {
      throw new ImageTooLargeError(meta.width, meta.height, limitInputPixels, meta.format ?? 'unknown');
    }
    const { data, info } = await sharp(input, { limitInputPixels })
      .autoOrient()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      hasAlpha: Boolean(meta.hasAlpha),
      format: meta.format ?? 'unknown',
      text: meta.format === 'png' ? pngText(input) : {},
      userComment: meta.exif ? readUserComment(meta.exif) : '',
    };
  } catch (cause) {
    if (cause instanceof ImageDecodeError) throw cause;
    if (/exceeds pixel limit/.test((cause as Error).message)) throw new ImageTooLargeError(null, null, limitInputPixels, 'unknown', { cause });
    throw new ImageDecodeError(`not a readable image: ${(cause as Error).message}`, { cause });
  }
}

function pngText(png: Buffer): Record<string, string> {
  try {
    return readTextChunks(png);
  } catch {
    return {}; // pixels decoded fine; a damaged text chunk only loses the metadata
  }
}

export type OutputFormat = 'png' | 'jpeg' | 'webp';

export interface EncodeOptions {
  format: OutputFormat;
  /** JPEG/WEBP quality 1–100 (A1111 option `jpeg_quality`, default 80). */
  quality?: number;
  /** PNG: text chunks. JPEG/WEBP: `parameters` becomes the EXIF UserComment ('' when absent, as A1111). */
  text?: Record<string, string>;
}

/**
 * Encodes 8-bit RGB pixels (row-major HWC) as PNG, JPEG or WEBP with A1111's metadata rules.
 * @example const jpeg = await encodeImage(rgb, 512, 512, { format: 'jpeg', quality: 80, text: { parameters: infotext } });
 */
export async function encodeImage(rgb: Uint8Array, width: number, height: number, options: EncodeOptions): Promise<Buffer> {
  if (rgb.length !== width * height * 3) throw new RangeError(`encodeImage: rgb has ${rgb.length} bytes, expected ${width}x${height}x3`);
  if (options.format === 'png') return encodePng(rgb, width, height, options.text ?? {});
  const quality = Math.min(Math.max(Math.round(options.quality ?? 80), 1), 100);
  const image = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
  const exif = userCommentExif(options.text?.parameters ?? '');
  if (options.format === 'jpeg') return insertJpegExif(await image.jpeg({ quality }).toBuffer(), exif);
  return insertWebpExif(await image.webp({ quality }).toBuffer(), exif, width, height);
}
