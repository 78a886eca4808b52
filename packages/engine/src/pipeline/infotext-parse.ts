/**
 * Reading an A1111 infotext back into parameters (`parse_generation_parameters`, spec §8.4, vector
 * infotext_parse.json): prompt / negative prompt / `key: value` line, styles extraction, the defaults A1111 fills
 * for keys older infotexts lack, the old hires-fix conversion and the back-compat flags chosen by `Version`.
 * Written from the spec's description and the vectors (A1111's code is AGPL and was not used).
 */
import { parsePromptAttention } from '../text/prompt-parser.ts';
import { pyStrip } from '../text/py-compat.ts';
import type { StyleDatabase } from '../text/styles.ts';
import { RE_PARAM, unquote } from './infotext.ts';

/** The options that steer parsing (A1111 settings keys, §10). */
export interface InfotextParseOptions {
  /** 'Apply if any' (default), 'Apply', 'Discard' or 'Ignore'. */
  infotext_styles?: string;
  /** Keys removed from the result. */
  infotext_skip_pasting?: readonly string[];
  /** Back-compat flags by `Version` (default true). */
  auto_backcompat?: boolean;
  use_old_hires_fix_width_height?: boolean;
}

export type ParsedInfotext = Record<string, string | number | boolean | string[]>;

const RE_IMAGESIZE = /^(\d+)x(\d+)$/;
const NEGATIVE_PREFIX = 'Negative prompt:';

/**
 * Parses an infotext into A1111's parameter dict: parsed values stay strings (sizes split into `-1`/`-2`),
 * defaults are typed; key order is text order, then Prompt, Negative prompt, then the defaults.
 * @example parseGenerationParameters('a cat\nSteps: 20, Sampler: Euler, Seed: 1')['Steps'] === '20'
 */
export function parseGenerationParameters(text: string, options: InfotextParseOptions = {}, styles?: StyleDatabase): ParsedInfotext {
  const res: ParsedInfotext = {};
  const { lines, paramLine } = splitParameterLine(text);
  let { prompt, negativePrompt } = splitPrompts(lines);
  for (const [key, value] of paramMatches(paramLine)) {
    const v = value.length > 0 && value[0] === '"' && value[value.length - 1] === '"' ? unquote(value) : value;
    const size = RE_IMAGESIZE.exec(v);
    if (size) {
      res[`${key}-1`] = size[1];
      res[`${key}-2`] = size[2];
    } else {
      res[key] = v;
    }
  }
  if ((options.infotext_styles ?? 'Apply if any') !== 'Ignore' && styles) {
    ({ prompt, negativePrompt } = extractStyles(res, prompt, negativePrompt, options.infotext_styles ?? 'Apply if any', styles));
  }
  res.Prompt = prompt;
  res['Negative prompt'] = negativePrompt;
  addDefaults(res, options);
  if (options.auto_backcompat ?? true) backcompat(res);
  for (const key of options.infotext_skip_pasting ?? []) delete res[key];
  return res;
}

/** The last line holds the parameters only when the parameter pattern matches it at least 3 times. */
function splitParameterLine(text: string): { lines: string[]; paramLine: string } {
  const lines = pyStrip(text).split('\n');
  const last = lines.pop() ?? '';
  if (paramMatches(last).length < 3) return { lines: [...lines, last], paramLine: '' };
  return { lines, paramLine: last };
}

function paramMatches(line: string): [string, string][] {
  return [...line.matchAll(RE_PARAM)].map((m) => [m[1], m[2]]);
}

/** Lines up to `Negative prompt:` are the prompt, the rest the negative prompt; each line stripped. */
function splitPrompts(lines: readonly string[]): { prompt: string; negativePrompt: string } {
  const prompt: string[] = [];
  const negative: string[] = [];
  let inNegative = false;
  for (const raw of lines) {
    let line = pyStrip(raw);
    if (line.startsWith(NEGATIVE_PREFIX)) {
      inNegative = true;
      line = pyStrip(line.slice(NEGATIVE_PREFIX.length));
    }
    (inNegative ? negative : prompt).push(line);
  }
  return { prompt: joinKept(prompt), negativePrompt: joinKept(negative) };
}

/** Joins with "\n" only after a non-empty text (A1111 appends that way), so leading empty lines vanish. */
function joinKept(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) out += (out === '' ? '' : '\n') + line;
  return out;
}

/** Styles found in the prompts are taken out of them (and out of hires prompts that carry the same styles). */
function extractStyles(res: ParsedInfotext, prompt: string, negativePrompt: string, mode: string, styles: StyleDatabase) {
  const found = styles.extractStylesFromPrompt(prompt, negativePrompt);
  let sameHrStyles = true;
  const hasHr = 'Hires prompt' in res || 'Hires negative prompt' in res;
  const version = parseVersion(res.Version);
  if (hasHr && (version === null || compareVersions(version, V180_HR_STYLES) > 0)) {
    const hrPrompt = String(res['Hires prompt'] ?? prompt);
    const hrNegative = String(res['Hires negative prompt'] ?? negativePrompt);
    const hr = styles.extractStylesFromPrompt(hrPrompt, hrNegative);
    sameHrStyles = hr.styles.length === found.styles.length && hr.styles.every((s, i) => s === found.styles[i]);
    if (sameHrStyles) {
      res['Hires prompt'] = hr.prompt === found.prompt ? '' : hr.prompt;
      res['Hires negative prompt'] = hr.negativePrompt === found.negativePrompt ? '' : hr.negativePrompt;
    }
  }
  if (!sameHrStyles) return { prompt, negativePrompt };
  if ((mode === 'Apply if any' && found.styles.length > 0) || mode === 'Apply') res['Styles array'] = found.styles;
  return { prompt: found.prompt, negativePrompt: found.negativePrompt };
}

/** Keys that older infotexts lack, with the values A1111 assumes for them (§8.4 step 5, in its order). */
function addDefaults(res: ParsedInfotext, options: InfotextParseOptions): void {
  setDefault(res, 'Clip skip', '1');
  if (res.Hypernet !== undefined) res.Prompt = `${res.Prompt}<hypernet:${res.Hypernet}:${res['Hypernet strength'] ?? '1.0'}>`;
  if (!('Hires resize-1' in res)) {
    res['Hires resize-1'] = 0;
    res['Hires resize-2'] = 0;
  }
  setDefault(res, 'Hires sampler', 'Use same sampler');
  setDefault(res, 'Hires schedule type', 'Use same scheduler');
  setDefault(res, 'Hires checkpoint', 'Use same checkpoint');
  setDefault(res, 'Hires prompt', '');
  setDefault(res, 'Hires negative prompt', '');
  setDefault(res, 'Mask mode', 'Inpaint masked');
  setDefault(res, 'Masked content', 'original');
  setDefault(res, 'Inpaint area', 'Whole picture');
  setDefault(res, 'Masked area padding', 32);
  restoreOldHiresFix(res, options.use_old_hires_fix_width_height ?? false);
  setDefault(res, 'RNG', 'GPU');
  setDefault(res, 'Schedule type', 'Automatic');
  setDefault(res, 'Schedule max sigma', 0);
  setDefault(res, 'Schedule min sigma', 0);
  setDefault(res, 'Schedule rho', 0);
  setDefault(res, 'VAE Encoder', 'Full');
  setDefault(res, 'VAE Decoder', 'Full');
  setDefault(res, 'FP8 weight', 'Disable');
  if (res['FP8 weight'] !== 'Disable') setDefault(res, 'Cache FP16 weight for LoRA', false);
  if (usesEmphasis(String(res.Prompt), String(res['Negative prompt']))) setDefault(res, 'Emphasis', 'Original');
  setDefault(res, 'Refiner switch by sampling steps', false);
}

function setDefault(res: ParsedInfotext, key: string, value: string | number | boolean): void {
  if (!(key in res)) res[key] = value;
}

/** Whether any part of the prompts has a weight other than 1 (BREAK markers aside). */
function usesEmphasis(prompt: string, negativePrompt: string): boolean {
  return [...parsePromptAttention(prompt), ...parsePromptAttention(negativePrompt)].some(([text, weight]) => weight !== 1 && text !== 'BREAK');
}

/**
 * Pre-1.0 hires fix wrote `First pass size` with `Size` the final size: turn that into the current form
 * (first pass as Size, final size as Hires resize; 0x0 = about 512² area in multiples of 64, §3.1.3).
 */
function restoreOldHiresFix(res: ParsedInfotext, useOldWidthHeight: boolean): void {
  if (useOldWidthHeight) {
    const w = Number.parseInt(String(res['Hires resize-1'] ?? 0), 10);
    const h = Number.parseInt(String(res['Hires resize-2'] ?? 0), 10);
    if (w && h) {
      res['Size-1'] = w;
      res['Size-2'] = h;
      return;
    }
  }
  if (res['First pass size-1'] === undefined || res['First pass size-2'] === undefined) return;
  let firstW = Number.parseInt(String(res['First pass size-1']), 10);
  let firstH = Number.parseInt(String(res['First pass size-2']), 10);
  const width = Number.parseInt(String(res['Size-1'] ?? 512), 10);
  const height = Number.parseInt(String(res['Size-2'] ?? 512), 10);
  if (firstW === 0 || firstH === 0) {
    const scale = Math.sqrt((512 * 512) / (width * height));
    firstW = Math.ceil((scale * width) / 64) * 64;
    firstH = Math.ceil((scale * height) / 64) * 64;
  }
  res['Size-1'] = firstW;
  res['Size-2'] = firstH;
  res['Hires resize-1'] = width;
  res['Hires resize-2'] = height;
}

/** A release as PEP 440 orders it: release numbers, then pre-release (a < b < rc < final), then post number. */
export interface InfotextVersion {
  release: number[];
  pre: [number, number];
  post: number;
}

const PRE_RANK: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };
const VERSION_RE = /^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(?:post|rev|r)[-_.]?(\d*))?$/i;

/**
 * The `Version` text as A1111 compares it: only its first two dash-separated parts (`v1.10.0-RC-12-gabc` →
 * `v1.10.0-RC`), parsed as a PEP 440 version; null when absent or unparseable.
 */
export function parseVersion(text: unknown): InfotextVersion | null {
  if (typeof text !== 'string' || text === '') return null;
  const parts = text.split('-');
  const head = parts.length > 2 ? `${parts[0]}-${parts[1]}` : text;
  const m = VERSION_RE.exec(head.trim());
  if (!m) return null;
  const pre: [number, number] = m[2] ? [PRE_RANK[m[2].toLowerCase()], Number(m[3] || 0)] : [3, 0];
  const post = m[4] !== undefined ? Number(m[4]) : m[5] !== undefined ? Number(m[5] || 0) : -1;
  return { release: m[1].split('.').map(Number), pre, post };
}

export function compareVersions(a: InfotextVersion, b: InfotextVersion): number {
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.pre[0] - b.pre[0] || a.pre[1] - b.pre[1] || a.post - b.post;
}

const V160 = parseVersion('1.6.0') as InfotextVersion;
const V170_TSNR = parseVersion('1.7.0-225') as InfotextVersion;
const V180 = parseVersion('1.8.0') as InfotextVersion;
const V180_HR_STYLES = parseVersion('1.8.0-139') as InfotextVersion;

/** Flags that make newer A1111 reproduce what the infotext's (older) version did (§8.4 step 6). */
function backcompat(res: ParsedInfotext): void {
  const version = parseVersion(res.Version);
  if (!version) return;
  const older = (v: InfotextVersion) => compareVersions(version, v) < 0;
  if (older(V160) && String(res.Prompt ?? '').includes('[')) res['Old prompt editing timelines'] = true;
  if (older(V160) && (res.Sampler === 'DDIM' || res.Sampler === 'PLMS')) res['Pad conds v0'] = true;
  if (older(V170_TSNR)) res['Downcast alphas_cumprod'] = true;
  if (older(V180) && res.Refiner) res['Refiner switch by sampling steps'] = true;
}
