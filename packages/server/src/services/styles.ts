/**
 * Prompt styles (spec §7, §3.15). The server owns the style files (`--styles-file`, default
 * `<data-dir>/styles.csv`): it lists them at GET /sdapi/v1/prompt-styles and merges a request's `styles` into
 * the prompts before the engine sees them (the engine's `styles` field only carries the names), so
 * `info.all_prompts` and the infotext show the styled prompts as A1111's do. Files are re-read when they change.
 * Parsing and merging are the engine's text/styles.ts (A1111 `modules/styles.py` behaviour).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { type PromptStyle, parseStylesCsv, StyleDatabase, type Txt2ImgParams } from '@sdapi/engine';
import type { PromptStyleItem } from '@sdapi/protocol';

/** Python `str.center(width, fill)`: an odd margin puts the extra fill on the right for even widths. */
function pyCenter(text: string, width: number, fill: string): string {
  const margin = width - text.length;
  if (margin <= 0) return text;
  const left = Math.floor(margin / 2) + (margin & width & 1);
  return fill.repeat(left) + text + fill.repeat(margin - left);
}

/** The divider A1111 lists before each file's styles when there are several files. */
export const styleDivider = (path: string): string => pyCenter(` ${basename(path, extname(path)).toUpperCase()} `, 40, '-');

/** `*`/`?` in the file name part match files in that folder (A1111 globs `--styles-file`); other paths as given. */
export function expandStylePaths(patterns: readonly string[]): string[] {
  return patterns.flatMap((pattern) => {
    const name = basename(pattern);
    if (!/[*?]/.test(name)) return [pattern];
    const regex = new RegExp(
      `^${name
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    let names: string[] = [];
    try {
      names = readdirSync(dirname(pattern))
        .filter((n) => regex.test(n))
        .sort();
    } catch {
      // a missing folder matches nothing
    }
    return names.map((n) => join(dirname(pattern), n));
  });
}

type StyledParams = Pick<Txt2ImgParams, 'prompt' | 'negativePrompt' | 'styles' | 'hires'>;

interface LoadedFile {
  path: string;
  stamp: string;
  styles: PromptStyle[];
}

export class PromptStyles {
  private files: LoadedFile[] = [];
  private db = new StyleDatabase();

  constructor(private readonly patterns: readonly string[]) {}

  /** GET /sdapi/v1/prompt-styles: every file's rows in order, each file after a divider when there are several. */
  list(): PromptStyleItem[] {
    const files = this.current().filter((f) => f.stamp !== ''); // a missing file has no styles and no divider
    return files.flatMap((file) => [
      ...(files.length > 1 ? [{ name: styleDivider(file.path), prompt: null, negative_prompt: null }] : []),
      ...file.styles.map((s) => ({ name: s.name, prompt: s.prompt, negative_prompt: s.negativePrompt })),
    ]);
  }

  /** The style database (later files win a name clash). */
  database(): StyleDatabase {
    this.current();
    return this.db;
  }

  /**
   * `params` with its `styles` merged into the prompt and the negative prompt (unknown names act as empty styles),
   * and into hires-fix prompts that are set ('' means the main prompt, which is already styled), as A1111 does.
   */
  apply<P extends StyledParams>(params: P): P {
    if (params.styles.length === 0) return params;
    const db = this.database();
    const prompt = (text: string) => db.applyStylesToPrompt(text, params.styles);
    const negative = (text: string) => db.applyNegativeStylesToPrompt(text, params.styles);
    const { hires } = params;
    const styledHires = hires && { ...hires, prompt: hires.prompt && prompt(hires.prompt), negativePrompt: hires.negativePrompt && negative(hires.negativePrompt) };
    return { ...params, prompt: prompt(params.prompt), negativePrompt: negative(params.negativePrompt), ...(hires ? { hires: styledHires } : {}) };
  }

  /** The files as they are on disk now, re-read when one appeared, changed or went. */
  private current(): LoadedFile[] {
    const stamped = expandStylePaths(this.patterns).map((path) => ({ path, stamp: stampOf(path) }));
    const unchanged = stamped.length === this.files.length && stamped.every((f, i) => f.path === this.files[i].path && f.stamp === this.files[i].stamp);
    if (unchanged) return this.files;
    this.files = stamped.map((f) => ({ ...f, styles: f.stamp === '' ? [] : parseStylesCsv(readFileSync(f.path, 'utf8'), f.path) }));
    this.db = new StyleDatabase(this.files.flatMap((f) => f.styles));
    return this.files;
  }
}

/** Size and mtime, or '' for a file that is not there. */
function stampOf(path: string): string {
  try {
    const stat = statSync(path);
    return stat.isFile() ? `${stat.size}:${stat.mtimeMs}` : '';
  } catch {
    return '';
  }
}
