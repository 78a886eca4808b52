/**
 * The `infotext` request field of txt2img/img2img (spec §8.6) and the infotext → settings map behind it (§8.5,
 * vector infotext_override_settings.json). Pure: the caller passes the options in force and, optionally, the
 * style database and the checkpoints (for `Model hash` when `disable_weights_auto_swap` is off).
 */
import { isDeepStrictEqual } from 'node:util';
import { type InfotextParseOptions, type ParsedInfotext, PyFloat, parseGenerationParameters, type StyleDatabase } from '@sdapi/engine';
import { coerce, providedFields } from '@sdapi/protocol';
import type { TSchema } from 'typebox';
import { ApiError } from './errors.ts';
import { OPTION_TABLE } from './option-defaults.ts';

type Source = string | ((p: ParsedInfotext) => unknown);

/** Request field ← infotext key, for fields both tabs fill (A1111's paste fields with an API name). */
const BOTH: [string, Source][] = [
  ['steps', 'Steps'],
  ['sampler_name', 'Sampler'],
  ['scheduler', 'Schedule type'],
  ['seed', 'Seed'],
  ['subseed', 'Variation seed'],
  ['subseed_strength', 'Variation seed strength'],
  // Swapped as in A1111 (sic, spec §8.6).
  ['seed_resize_from_h', 'Seed resize from-1'],
  ['seed_resize_from_w', 'Seed resize from-2'],
  ['refiner_checkpoint', 'Refiner'],
  ['refiner_switch_at', 'Refiner switch at'],
];

/** txt2img-only fields (img2img's prompt, size, cfg and inpaint fields have no API mapping in A1111). */
const TXT2IMG: [string, Source][] = [
  ['prompt', 'Prompt'],
  ['negative_prompt', 'Negative prompt'],
  ['cfg_scale', 'CFG scale'],
  ['width', 'Size-1'],
  ['height', 'Size-2'],
  ['batch_size', 'Batch size'],
  // A1111 passes str(list) here (a bug giving "['A']"); the list itself is what the field means.
  ['styles', (p) => (Array.isArray(p['Styles array']) ? p['Styles array'] : undefined)],
  ['denoising_strength', 'Denoising strength'],
  ['enable_hr', (p) => 'Denoising strength' in p && ('Hires upscale' in p || 'Hires upscaler' in p || 'Hires resize-1' in p)],
  ['hr_scale', 'Hires upscale'],
  ['hr_upscaler', 'Hires upscaler'],
  ['hr_second_pass_steps', 'Hires steps'],
  ['hr_resize_x', 'Hires resize-1'],
  ['hr_resize_y', 'Hires resize-2'],
  ['hr_checkpoint_name', 'Hires checkpoint'],
  ['hr_sampler_name', 'Hires sampler'],
  ['hr_scheduler', 'Hires schedule type'],
  ['hr_prompt', 'Hires prompt'],
  ['hr_negative_prompt', 'Hires negative prompt'],
];

export interface InfotextContext {
  /** Options in force (parsing options, current values for §8.5). */
  options: Record<string, unknown>;
  styles?: StyleDatabase;
  /** Title of the checkpoint with this short/legacy hash, for `Model hash` (§8.5). */
  checkpointByHash?: (hash: string) => string | undefined;
}

/** The parse options A1111 takes from its settings. */
export function parseOptionsFrom(options: Record<string, unknown>): InfotextParseOptions {
  return {
    infotext_styles: typeof options.infotext_styles === 'string' ? options.infotext_styles : undefined,
    infotext_skip_pasting: Array.isArray(options.infotext_skip_pasting) ? options.infotext_skip_pasting.map(String) : undefined,
    auto_backcompat: options.auto_backcompat !== false,
    use_old_hires_fix_width_height: Boolean(options.use_old_hires_fix_width_height),
  };
}

/**
 * Applies a non-empty `infotext` to a validated request: fields the client did not send take the parsed values
 * (converted by the field's type, as pydantic would), `override_settings` gains the §8.5 settings it lacks.
 * Idempotent: filled fields count as sent afterwards.
 */
export function applyInfotext<B extends { infotext?: string | null; override_settings?: Record<string, unknown> | null }>(
  schema: TSchema,
  body: B,
  tab: 'txt2img' | 'img2img',
  ctx: InfotextContext,
): B {
  if (typeof body.infotext !== 'string' || body.infotext === '') return body;
  const params = parseGenerationParameters(body.infotext, parseOptionsFrom(ctx.options), ctx.styles);
  const provided = providedFields(body) ?? new Set(Object.keys(body));
  const input: Record<string, unknown> = Object.fromEntries(Object.entries(body).filter(([k]) => provided.has(k)));
  for (const [field, source] of tab === 'txt2img' ? [...TXT2IMG, ...BOTH] : BOTH) {
    if (provided.has(field)) continue;
    const value = typeof source === 'string' ? params[source] : source(params);
    if (value !== undefined) input[field] = value;
  }
  const overrides: Record<string, unknown> = { ...(body.override_settings ?? {}) };
  for (const [, key, value] of infotextOverrideSettings(params, ctx.options, ctx.checkpointByHash)) {
    if (!Object.hasOwn(overrides, key)) overrides[key] = value;
  }
  input.override_settings = overrides;
  const out = coerce<B>(schema, input, ['body']);
  if (!out.ok) {
    const e = out.errors[0];
    throw new ApiError(
      'INVALID_PARAMS',
      `infotext: the value for ${e.loc.slice(1).join('.')} (${JSON.stringify(input[String(e.loc[1])])}) does not fit the field: ${e.msg}`,
    );
  }
  return out.value;
}

/**
 * §8.5: every option with an infotext key present in `params`, the value cast to the option's type, skipped when
 * it equals the value in force. `Model hash` → `sd_model_checkpoint` only with `disable_weights_auto_swap` off and
 * a checkpoint of that hash. Rows `[infotext key, option key, value]` in option-table order.
 */
export function infotextOverrideSettings(
  params: ParsedInfotext,
  current: Record<string, unknown>,
  checkpointByHash?: (hash: string) => string | undefined,
): [string, string, unknown][] {
  const out: [string, string, unknown][] = [];
  for (const [key, defaultValue, , infotextKey] of OPTION_TABLE) {
    if (infotextKey === undefined || !Object.hasOwn(params, infotextKey)) continue;
    let value: unknown;
    if (key === 'sd_model_checkpoint') {
      if (current.disable_weights_auto_swap !== false) continue;
      value = checkpointByHash?.(String(params[infotextKey]));
      if (value === undefined) continue;
    } else {
      value = castToOption(infotextKey, defaultValue, params[infotextKey]);
    }
    const now = current[key] instanceof PyFloat ? (current[key] as PyFloat).value : current[key];
    if (isDeepStrictEqual(value, now)) continue;
    out.push([infotextKey, key, value]);
  }
  return out;
}

/** Python's `type(default)(value)`, with A1111's bool rule: "False" → false, other non-empty text → true. */
function castToOption(infotextKey: string, defaultValue: unknown, value: unknown): unknown {
  const bad = (kind: string) => new ApiError('INVALID_PARAMS', `infotext: ${infotextKey}: ${JSON.stringify(value)} is not a valid ${kind}`);
  if (typeof defaultValue === 'boolean') return typeof value === 'boolean' ? value : value !== 'False' && Boolean(value);
  if (defaultValue instanceof PyFloat) {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (Number.isNaN(n) || String(value).trim() === '') throw bad('number');
    return n;
  }
  if (typeof defaultValue === 'number') {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (!/^\s*[+-]?\d+\s*$/.test(String(value))) throw bad('integer');
    return Number.parseInt(String(value), 10);
  }
  return typeof value === 'string' ? value : String(value);
}
