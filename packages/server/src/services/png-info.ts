/**
 * POST /sdapi/v1/png-info (spec §3.4): the infotext an image carries (PNG `parameters` chunk, or a non-empty EXIF
 * UserComment, which wins), the image's other text entries, and the infotext parsed as A1111 parses it (§8.4).
 * NovelAI PNGs (`Software: NovelAI`) are turned into an A1111 infotext first.
 * Not done: GIF comments and JPEG COM segments (sharp does not expose them), Pillow's non-text info entries that
 * A1111 would list in `items` (PNG `gamma`, `srgb`, `transparency`, `aspect`), and the Lora extension's rewrite of
 * `<lora:alias:…>` tags by `Lora hashes` (no LoRA catalogue is consulted here).
 */
import { type DecodedImage, PyFloat, parseGenerationParameters, pyStr, type StyleDatabase } from '@sdapi/engine';
import type { PNGInfoResponse } from '@sdapi/protocol';
import type { Catalog } from './catalog.ts';
import { parseOptionsFrom } from './infotext-request.ts';

/** Pillow info keys A1111 leaves out of `items` (only text entries reach us, so few of them can occur). */
const IGNORED_ITEMS = new Set([
  'parameters',
  'jfif',
  'jfif_version',
  'jfif_unit',
  'jfif_density',
  'dpi',
  'exif',
  'loop',
  'background',
  'timestamp',
  'duration',
  'progressive',
  'progression',
  'icc_profile',
  'chromaticity',
  'photoshop',
]);

export interface PngInfoContext {
  options: Record<string, unknown>;
  catalog: Catalog;
  styles?: StyleDatabase;
}

/** A decoded request image → `{info, items, parameters}`. */
export function pngInfo(image: DecodedImage, ctx: PngInfoContext): PNGInfoResponse {
  let info = image.text.parameters ?? '';
  if (image.userComment) info = image.userComment;
  const items: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(image.text)) if (!IGNORED_ITEMS.has(key)) items[key] = value;
  if (items.Software === 'NovelAI') info = novelAiInfotext(image, ctx.catalog) ?? info;
  return { info, items, parameters: parseGenerationParameters(info, parseOptionsFrom(ctx.options), ctx.styles) };
}

/** NovelAI's `Description` + `Comment` JSON → an A1111 infotext; null when the comment is not the expected JSON. */
function novelAiInfotext(image: DecodedImage, catalog: Catalog): string | null {
  const comment = parsePyNumbers(image.text.Comment ?? '');
  if (!comment || typeof comment !== 'object') return null;
  const c = comment as Record<string, unknown>;
  const sampler = samplerByLowerName(catalog, String(c.sampler ?? '')) ?? 'Euler a';
  const s = pyStr;
  return [
    image.text.Description ?? '',
    `Negative prompt: ${s(c.uc)}`,
    `Steps: ${s(c.steps)}, Sampler: ${sampler}, CFG scale: ${s(c.scale)}, Seed: ${s(c.seed)}, Size: ${image.width}x${image.height}, Clip skip: 2, ENSD: 31337`,
  ].join('\n');
}

/** A1111's `samplers_map`: every sampler name and alias, lower-cased. */
function samplerByLowerName(catalog: Catalog, name: string): string | undefined {
  const lower = name.toLowerCase();
  return catalog.samplers.find((s) => s.name.toLowerCase() === lower || s.aliases.some((a) => a.toLowerCase() === lower))?.name;
}

/** JSON with Python's number types kept (`11.0` stays a float, printed `11.0`). */
function parsePyNumbers(text: string): unknown {
  const tagged = text.replace(/"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) =>
    tok.startsWith('"') || !/[.eE]/.test(tok) ? tok : `{"$pyfloat":${tok}}`,
  );
  try {
    return JSON.parse(tagged, (_k, v) => (v && typeof v === 'object' && '$pyfloat' in v ? new PyFloat(v.$pyfloat) : v));
  } catch {
    return null;
  }
}
