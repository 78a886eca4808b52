/**
 * Images in responses (spec §1.10): encoded per option `samples_format` (png, jpg/jpeg, webp; case-insensitive as
 * A1111's `.lower()`), bare standard base64. PNG carries the infotext as a `parameters` text chunk, JPEG/WEBP in
 * EXIF UserComment at `jpeg_quality`; both only with `enable_pnginfo` (A1111 reads it from the image's info dict,
 * which is only filled then).
 */
import { encodeImage, type OutputFormat } from '@sdapi/engine';
import { ApiError } from './errors.ts';

const FORMATS: Record<string, OutputFormat> = { png: 'png', jpg: 'jpeg', jpeg: 'jpeg', webp: 'webp' };

/** The codec format for a `samples_format` value; anything else is A1111's `Invalid image format`. */
export function outputFormat(samplesFormat: unknown): OutputFormat {
  const format = typeof samplesFormat === 'string' ? FORMATS[samplesFormat.toLowerCase()] : undefined;
  if (!format)
    throw new ApiError('INVALID_IMAGE_FORMAT', 'Invalid image format', {
      cause: `samples_format ${JSON.stringify(samplesFormat)} is not one of png, jpg, jpeg, webp`,
    });
  return format;
}

export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** The infotext; written only when `enable_pnginfo`. */
  infotext?: string | null;
}

/** One image → base64 in the format the options ask for. */
export async function encodeOutputImage(image: RgbImage, options: Record<string, unknown>): Promise<string> {
  const format = outputFormat(options.samples_format);
  const text = options.enable_pnginfo && image.infotext ? { parameters: image.infotext } : undefined;
  const quality = typeof options.jpeg_quality === 'number' ? options.jpeg_quality : 80;
  return (await encodeImage(image.rgb, image.width, image.height, { format, quality, text })).toString('base64');
}

/** Every image, in order (encoded one after another to bound memory for large batches). */
export async function encodeOutputImages(images: readonly RgbImage[], options: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const image of images) out.push(await encodeOutputImage(image, options));
  return out;
}
