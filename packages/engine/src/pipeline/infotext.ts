/**
 * A1111's infotext (the `parameters` PNG chunk and `info.infotexts[]`), built from the spec
 * (a1111-api.md §8.1–8.3, vectors infotext_create.json / infotext_quote.json), plus the Python value
 * formatting it needs: `str()`/`repr()` of numbers, strings and lists, and `json.dumps`. The server reuses the
 * formatters for the `info` JSON string and for byte-compatible responses (spec §1.2).
 */

/**
 * A number that Python holds as a `float`: it prints as `7.0`, not `7`. JavaScript has one number type, so values
 * whose Python type matters for output (infotext, JSON) are boxed with this where they would otherwise be
 * integral. Non-integral plain numbers are floats anyway.
 */
export class PyFloat {
  constructor(readonly value: number) {}

  valueOf(): number {
    return this.value;
  }

  toJSON(): number {
    return this.value;
  }
}

export const pyFloat = (value: number): PyFloat => new PyFloat(value);

/** `repr(float)`: the shortest round-trip digits, with `.0` kept and Python's exponent rules (`1e-05`, `1e+16`). */
export function formatPyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // JS and Python both print the shortest digit string that round-trips; only the layout differs.
  const [mantissa, expText] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  return `${sign}${intPart}.${digits.slice(exp + 1) || '0'}`;
}

/** `str()` of a Python number: integral plain numbers are ints, everything else (and PyFloat) is a float. */
export function formatPyNumber(x: number | PyFloat): string {
  if (x instanceof PyFloat) return formatPyFloat(x.value);
  if (!Number.isInteger(x)) return formatPyFloat(x);
  return Number.isSafeInteger(x) ? String(x) : BigInt(x).toString();
}

/** Python `repr()` of a string: single quotes unless the text has `'` and no `"`; unprintables escaped. */
export function pyReprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === '\\' || ch === q) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) out += escapeCodePoint(ch.codePointAt(0) ?? 0);
    else out += ch;
  }
  return out + q;
}

function escapeCodePoint(cp: number): string {
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, '0')}`;
  return `\\U${cp.toString(16).padStart(8, '0')}`;
}

/** Python `repr()` of a JSON-like value (`True`, `None`, `['a', 1]`, `{'k': 2.0}`). */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return pyReprString(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof PyFloat)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return pyStr(value);
}

/** Python `str()` of a JSON-like value: strings as is, `True`/`False`/`None`, numbers per their Python type. */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || value instanceof PyFloat) return formatPyNumber(value);
  if (typeof value === 'function') return '<function>';
  return pyRepr(value);
}

export interface PyJsonDumpsOptions {
  /** `json.dumps` defaults: `[', ', ': ']`; starlette responses use `[',', ':']`. */
  separators?: readonly [string, string];
  /** Escape every non-ASCII character as `\uXXXX` (Python's default); false writes UTF-8 raw. */
  ensureAscii?: boolean;
  /** false raises on NaN/Infinity, as starlette's JSONResponse does. */
  allowNan?: boolean;
}

/**
 * Python `json.dumps`: ints and floats keep their Python types (see PyFloat), keys keep insertion order,
 * functions and `undefined` become `null` (A1111's `info` does the same for callables).
 */
export function pyJsonDumps(value: unknown, options: PyJsonDumpsOptions = {}): string {
  const [itemSep, keySep] = options.separators ?? [', ', ': '];
  const ensureAscii = options.ensureAscii ?? true;
  const allowNan = options.allowNan ?? true;
  const str = (s: string) => (ensureAscii ? asciiEscape(JSON.stringify(s)) : JSON.stringify(s));
  const walk = (v: unknown): string => {
    if (v === null || v === undefined || typeof v === 'function') return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return str(v);
    if (typeof v === 'number' || v instanceof PyFloat) return jsonNumber(v, allowNan);
    if (typeof v === 'bigint') return v.toString();
    if (Array.isArray(v)) return `[${v.map(walk).join(itemSep)}]`;
    const entries = Object.entries(v as object).map(([k, x]) => `${str(k)}${keySep}${walk(x)}`);
    return `{${entries.join(itemSep)}}`;
  };
  return walk(value);
}

function jsonNumber(v: number | PyFloat, allowNan: boolean): string {
  const x = typeof v === 'number' ? v : v.value;
  if (Number.isFinite(x)) return formatPyNumber(v);
  if (!allowNan) throw new RangeError('Out of range float values are not JSON compliant');
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** JSON.stringify already escapes like Python; ensure_ascii additionally escapes DEL and every non-ASCII unit. */
function asciiEscape(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Infotext value quoting: text with `,`, `:` or a newline becomes a JSON string (non-ASCII kept raw). */
export function quote(value: unknown): string {
  const text = pyStr(value);
  if (!text.includes(',') && !text.includes('\n') && !text.includes(':')) return text;
  return pyJsonDumps(value, { ensureAscii: false });
}

/** Inverse of quote: a `"…"` value is JSON-decoded when valid, anything else is returned unchanged. */
export function unquote(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : text;
  } catch {
    return text;
  }
}

/** One `key: value` of an infotext parameter line (A1111's `re_param`; Python's `\w` is Unicode-aware). */
export const RE_PARAM = /\s*([\p{L}\p{N}_][\p{L}\p{N}_ \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/gu;

export type InfotextScalar = string | number | boolean | PyFloat | null | undefined;
export type InfotextValue = InfotextScalar | readonly InfotextScalar[];

/** Which image an infotext is for. */
export interface InfotextContext {
  /** Index into all_prompts/all_seeds: `iteration * batchSize + positionInBatch`. */
  index: number;
  iteration: number;
  positionInBatch: number;
  p: InfotextParams;
}

/** An extra parameter: a value, a per-image list (element `index` is written), or a function of the image. */
export type ExtraParam = InfotextValue | ((ctx: InfotextContext) => InfotextValue);

/** The processing state create_infotext reads (A1111's `p`), camelCased. */
export interface InfotextParams {
  allPrompts: readonly string[];
  allNegativePrompts: readonly string[];
  allSeeds: readonly number[];
  allSubseeds: readonly number[];
  /** Prompts for a grid's infotext (`useMainPrompt`); default: the first of all_prompts. */
  mainPrompt?: string;
  mainNegativePrompt?: string;
  steps: number;
  samplerName: string;
  /** Scheduler label (`Automatic`, `Karras`); the sampler may overwrite it via extra `Schedule type`. */
  scheduler: string;
  /** API float fields: always written as Python floats (`7.0`). */
  cfgScale: number;
  imageCfgScale?: number | null;
  width: number;
  height: number;
  batchSize: number;
  restoreFaces?: boolean;
  tiling?: boolean;
  sdModelName: string | null;
  sdModelHash: string | null;
  sdVaeName?: string | null;
  sdVaeHash?: string | null;
  subseedStrength: number;
  seedResizeFromW: number;
  seedResizeFromH: number;
  /** p.clip_skip when a script set it; otherwise option CLIP_stop_at_last_layers. */
  clipSkip?: number | null;
  /** null → option eta_ancestral (only used to decide whether `ENSD` is written). */
  eta?: number | null;
  /** Whether the sampler uses ENSD; default: A1111's `uses_ensd` samplers (§3.11). */
  samplerUsesEnsd?: boolean;
  isUsingInpaintingConditioning?: boolean;
  /**
   * Extra infotext keys in insertion order (values: ExtraParam); existing keys (`Schedule type`) are updated in
   * place. Typed loosely because it is the engine result's `extraGenerationParams` passed through.
   */
  extraGenerationParams?: Readonly<Record<string, unknown>>;
  user?: string | null;
}

/** The options create_infotext reads, with A1111's keys; absent keys take A1111's defaults. */
export interface InfotextOptions {
  add_model_hash_to_info?: boolean;
  add_model_name_to_info?: boolean;
  add_vae_hash_to_info?: boolean;
  add_vae_name_to_info?: boolean;
  add_version_to_infotext?: boolean;
  add_user_name_to_info?: boolean;
  face_restoration_model?: string;
  CLIP_stop_at_last_layers?: number;
  eta_noise_seed_delta?: number;
  eta_ancestral?: number;
  randn_source?: string;
  inpainting_mask_weight?: number;
}

export interface CreateInfotextOptions {
  iteration?: number;
  positionInBatch?: number;
  /** Grid infotext: main prompts and the first seed of the iteration. */
  useMainPrompt?: boolean;
  options?: InfotextOptions;
  /** Written as `Version: …` (option add_version_to_infotext). */
  version?: string | null;
}

const ENSD_SAMPLERS = new Set(['DPM++ 2S a', 'Euler a', 'DPM2 a', 'DPM fast', 'DPM adaptive']);

/**
 * A1111's `create_infotext` for one image (or the grid): prompt, optional `Negative prompt:` line, then the
 * parameter line in the key order of spec §8.3; null values are skipped.
 * @example createInfotext(p, { iteration: 0, positionInBatch: 0, options, version: 'v1.10.1' })
 */
export function createInfotext(p: InfotextParams, call: CreateInfotextOptions = {}): string {
  const iteration = call.iteration ?? 0;
  const positionInBatch = call.positionInBatch ?? 0;
  const ctx: InfotextContext = { index: positionInBatch + iteration * p.batchSize, iteration, positionInBatch, p };
  const params: Map<string, unknown> = baseParams(p, ctx, call.useMainPrompt === true, call.options ?? {});
  for (const [key, extra] of Object.entries(p.extraGenerationParams ?? {})) params.set(key, resolveExtra(extra, ctx));
  const opts = call.options ?? {};
  params.set('Version', (opts.add_version_to_infotext ?? true) ? call.version : null);
  params.set('User', opts.add_user_name_to_info ? p.user : null);

  const line = [...params]
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => (k === v ? k : `${k}: ${quote(v)}`))
    .join(', ');
  const prompt = call.useMainPrompt ? (p.mainPrompt ?? p.allPrompts[0]) : p.allPrompts[ctx.index];
  const negative = call.useMainPrompt ? (p.mainNegativePrompt ?? p.allNegativePrompts[0]) : p.allNegativePrompts[ctx.index];
  const negativeLine = negative ? `\nNegative prompt: ${negative}` : '';
  return `${prompt ?? ''}${negativeLine}\n${line}`.trim();
}

/** The fixed keys in A1111's order; slots that only extras fill are reserved with null to keep their position. */
function baseParams(p: InfotextParams, ctx: InfotextContext, useMain: boolean, o: InfotextOptions): Map<string, InfotextValue> {
  const seedIndex = useMain ? 0 : ctx.index;
  const clipSkip = p.clipSkip ?? o.CLIP_stop_at_last_layers ?? 1;
  const ensd = o.eta_noise_seed_delta ?? 0;
  const usesEnsd = (p.samplerUsesEnsd ?? ENSD_SAMPLERS.has(p.samplerName)) && (p.eta ?? o.eta_ancestral ?? 1) !== 0;
  const randn = o.randn_source ?? 'GPU';
  const varied = p.subseedStrength !== 0;
  return new Map<string, InfotextValue>([
    ['Steps', p.steps],
    ['Sampler', p.samplerName],
    ['Schedule type', p.scheduler],
    ['CFG scale', pyFloat(p.cfgScale)],
    ['Image CFG scale', p.imageCfgScale == null ? null : pyFloat(p.imageCfgScale)],
    ['Seed', p.allSeeds[seedIndex]],
    ['Face restoration', p.restoreFaces ? (o.face_restoration_model ?? 'CodeFormer') : null],
    ['Size', `${p.width}x${p.height}`],
    ['Model hash', (o.add_model_hash_to_info ?? true) ? p.sdModelHash : null],
    ['Model', (o.add_model_name_to_info ?? true) ? p.sdModelName : null],
    ['FP8 weight', null],
    ['Cache FP16 weight for LoRA', null],
    ['VAE hash', (o.add_vae_hash_to_info ?? true) ? p.sdVaeHash : null],
    ['VAE', (o.add_vae_name_to_info ?? true) ? p.sdVaeName : null],
    ['Variation seed', varied ? p.allSubseeds[ctx.index] : null],
    ['Variation seed strength', varied ? pyFloat(p.subseedStrength) : null],
    ['Seed resize from', p.seedResizeFromW > 0 && p.seedResizeFromH > 0 ? `${p.seedResizeFromW}x${p.seedResizeFromH}` : null],
    ['Denoising strength', null],
    ['Conditional mask weight', p.isUsingInpaintingConditioning ? pyFloat(o.inpainting_mask_weight ?? 1) : null],
    ['Clip skip', clipSkip <= 1 ? null : clipSkip],
    ['ENSD', ensd !== 0 && usesEnsd ? ensd : null],
    ['Token merging ratio', null],
    ['Token merging ratio hr', null],
    ['Init image hash', null],
    ['RNG', randn !== 'GPU' ? randn : null],
    ['Tiling', p.tiling ? 'True' : null],
  ]);
}

function resolveExtra(extra: unknown, ctx: InfotextContext): unknown {
  const value = typeof extra === 'function' ? (extra as (c: InfotextContext) => unknown)(ctx) : extra;
  // A per-image list contributes this image's element only.
  return Array.isArray(value) ? value[ctx.index] : value;
}
