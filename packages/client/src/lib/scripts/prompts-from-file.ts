/**
 * `script_args` for A1111's "Prompts from file or textbox" (spec a1111-api.md §5.5): one job per line; a line
 * may set fields shell-style (`--prompt "a cat" --steps 20`). Lines given as objects are written in that syntax.
 */
import type { ScriptSelection } from './xyz-plot.ts';

/** The per-line fields the script understands (values as A1111 reads them). */
export interface PromptLine {
  prompt?: string;
  negative_prompt?: string;
  /** A checkpoint, matched loosely by A1111. */
  sd_model?: string;
  seed?: number;
  subseed?: number;
  subseed_strength?: number;
  seed_resize_from_h?: number;
  seed_resize_from_w?: number;
  sampler_name?: string;
  batch_size?: number;
  n_iter?: number;
  steps?: number;
  cfg_scale?: number;
  width?: number;
  height?: number;
  restore_faces?: boolean;
  tiling?: boolean;
}

export interface PromptsFromFileOptions {
  /** Lines of text (each one prompt or `--key value` pairs), line objects, or the whole text. */
  lines: readonly (string | PromptLine)[] | string;
  /** Advance the seed by batch_size·n_iter per line (default false). */
  iterateSeed?: boolean;
  /** One fixed random seed for all lines (default false). */
  iterateBatchSeed?: boolean;
  /** Where the line's prompt goes relative to the request's prompt (default "start"). */
  promptPosition?: 'start' | 'end';
}

export function promptsFromFile(opts: PromptsFromFileOptions): ScriptSelection {
  const { iterateSeed = false, iterateBatchSeed = false, promptPosition = 'start' } = opts;
  if (promptPosition !== 'start' && promptPosition !== 'end')
    throw new RangeError(`promptsFromFile: promptPosition must be "start" or "end", got ${JSON.stringify(promptPosition)}`);
  const text = typeof opts.lines === 'string' ? opts.lines : opts.lines.map((l) => (typeof l === 'string' ? l : formatPromptLine(l))).join('\n');
  return { script_name: 'Prompts from file or textbox', script_args: [iterateSeed, iterateBatchSeed, promptPosition, text] };
}

/** `{prompt: 'a cat', steps: 20}` → `--prompt 'a cat' --steps 20` (shlex quoting; booleans as true/false). */
export function formatPromptLine(line: PromptLine): string {
  return Object.entries(line)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `--${k} ${shellQuote(String(v))}`)
    .join(' ');
}

/** Python shlex.quote: safe words as is, else single quotes with `'` written as `'"'"'`. */
function shellQuote(s: string): string {
  if (s !== '' && /^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
