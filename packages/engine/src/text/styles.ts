/**
 * Prompt styles from A1111's `styles.csv` (behaviour of `modules/styles.py`, spec §7, vector `styles.json`):
 * parsing the CSV as Python's `csv.DictReader(skipinitialspace=True)` does, applying styles to a prompt and
 * negative prompt (`{prompt}` placeholder or `", "`-joined), and recognising applied styles in a prompt
 * (used when reading infotexts). Reading the files is the caller's job; this module works on their text.
 */
import { pyStrip } from './py-compat.ts';

export interface PromptStyle {
  name: string;
  prompt: string;
  negativePrompt: string;
  /** File the style came from, when known. */
  path?: string;
}

type CsvState = 'start' | 'field' | 'quoted' | 'quoteInQuoted';

/** Python `csv.reader` (excel dialect, skipinitialspace): rows of fields; blank lines give no row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let state: CsvState = 'start';
  let lineStarted = false; // Python yields a row (maybe ['']) for any line that is not just a line break
  const endField = () => {
    row.push(field);
    field = '';
    state = 'start';
  };
  const endRow = () => {
    if (lineStarted) {
      endField();
      rows.push(row);
    }
    row = [];
    lineStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (state !== 'quoted' && (c === '\r' || c === '\n')) {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      continue;
    }
    lineStarted = true;
    if (state === 'quoted') {
      if (c === '"') state = 'quoteInQuoted';
      else field += c;
    } else if (c === ',') {
      endField();
    } else if (state === 'quoteInQuoted') {
      field += c; // '""' is a quote; other text after a closing quote is kept (Python's non-strict mode)
      state = c === '"' ? 'quoted' : 'field';
    } else if (state === 'start' && c === '"') {
      state = 'quoted';
    } else if (!(state === 'start' && c === ' ')) {
      field += c;
      state = 'field';
    }
  }
  endRow();
  return rows;
}

/** A1111 `StyleDatabase.load_from_csv` for one file's text: BOM allowed, `#` names skipped, old `text` column. */
export function parseStylesCsv(text: string, path?: string): PromptStyle[] {
  const [header, ...records] = parseCsv(text.replace(/^\ufeff/, ''));
  if (!header) return [];
  const styles: PromptStyle[] = [];
  for (const record of records) {
    const row = new Map(header.map((key, i) => [key, record[i]]));
    const name = row.get('name');
    if (name === undefined || name.startsWith('#')) continue;
    const prompt = (row.has('prompt') ? row.get('prompt') : row.get('text')) ?? '';
    styles.push({ name, prompt, negativePrompt: row.get('negative_prompt') ?? '', path });
  }
  return styles;
}

/** A1111 `merge_prompts`: substitute `{prompt}`, or join the stripped prompt and style text with ", ". */
export function mergeStylePrompt(styleText: string, prompt: string): string {
  if (styleText.includes('{prompt}')) return styleText.replaceAll('{prompt}', prompt);
  return [pyStrip(prompt), pyStrip(styleText)].filter((part) => part !== '').join(', ');
}

/** Applies style texts in order (A1111 `apply_styles_to_prompt`). */
export function applyStyleTexts(prompt: string, styleTexts: readonly string[]): string {
  return styleTexts.reduce((current, styleText) => mergeStylePrompt(styleText, current), prompt);
}

/**
 * A1111 `extract_style_text_from_prompt`: whether `prompt` looks like `styleText` applied to something, and
 * that something.
 */
export function extractStyleTextFromPrompt(styleText: string, prompt: string): { matched: boolean; prompt: string } {
  const strippedPrompt = pyStrip(prompt);
  const strippedStyle = pyStrip(styleText);
  const placeholder = strippedStyle.indexOf('{prompt}');
  if (placeholder >= 0) {
    // A1111 unpacks split('{prompt}', 2) into two names, so a style with two placeholders never matches
    if (strippedStyle.indexOf('{prompt}', placeholder + 1) >= 0) return { matched: false, prompt };
    const left = strippedStyle.slice(0, placeholder);
    const right = strippedStyle.slice(placeholder + '{prompt}'.length);
    if (strippedPrompt.startsWith(left) && strippedPrompt.endsWith(right)) {
      return { matched: true, prompt: strippedPrompt.slice(left.length, strippedPrompt.length - right.length) };
    }
  } else if (strippedPrompt.endsWith(strippedStyle)) {
    const rest = strippedPrompt.slice(0, strippedPrompt.length - strippedStyle.length);
    return { matched: true, prompt: rest.endsWith(', ') ? rest.slice(0, -2) : rest };
  }
  return { matched: false, prompt };
}

/** A1111 `extract_original_prompts` over the candidates: the first style whose both texts match. */
function firstMatchingStyle(
  candidates: readonly PromptStyle[],
  prompt: string,
  negativePrompt: string,
): { index: number; prompt: string; negativePrompt: string } | null {
  for (const [index, style] of candidates.entries()) {
    const positive = extractStyleTextFromPrompt(style.prompt, prompt);
    if (!positive.matched) continue;
    const negative = extractStyleTextFromPrompt(style.negativePrompt, negativePrompt);
    if (negative.matched) return { index, prompt: positive.prompt, negativePrompt: negative.prompt };
  }
  return null;
}

/** The styles known to the server, by name, in file order (a later duplicate name replaces the earlier style). */
export class StyleDatabase {
  readonly styles = new Map<string, PromptStyle>();

  constructor(styles: Iterable<PromptStyle> = []) {
    for (const style of styles) this.styles.set(style.name, style);
  }

  /** @example StyleDatabase.fromCsv('name,prompt,negative_prompt\nQuality,"best, {prompt}",lowres') */
  static fromCsv(text: string, path?: string): StyleDatabase {
    return new StyleDatabase(parseStylesCsv(text, path));
  }

  names(): string[] {
    return [...this.styles.keys()];
  }

  /** Applies the named styles' prompts in order; unknown names act as empty styles. */
  applyStylesToPrompt(prompt: string, names: readonly string[]): string {
    return applyStyleTexts(
      prompt,
      names.map((name) => this.styles.get(name)?.prompt ?? ''),
    );
  }

  /** The same with the styles' negative prompts. */
  applyNegativeStylesToPrompt(negativePrompt: string, names: readonly string[]): string {
    return applyStyleTexts(
      negativePrompt,
      names.map((name) => this.styles.get(name)?.negativePrompt ?? ''),
    );
  }

  /**
   * A1111 `extract_styles_from_prompt`: repeatedly peels off the first style (in database order) whose prompt
   * and negative prompt both match; returns the styles in application order and what remains.
   */
  extractStylesFromPrompt(prompt: string, negativePrompt: string): { styles: string[]; prompt: string; negativePrompt: string } {
    const extracted: string[] = [];
    const candidates = [...this.styles.values()].filter((style) => style.prompt !== '' || style.negativePrompt !== '');
    let current = { prompt, negativePrompt };
    for (;;) {
      const match = firstMatchingStyle(candidates, current.prompt, current.negativePrompt);
      if (!match) break;
      extracted.push(candidates[match.index].name);
      candidates.splice(match.index, 1);
      current = { prompt: match.prompt, negativePrompt: match.negativePrompt };
    }
    return { styles: extracted.reverse(), ...current };
  }
}
