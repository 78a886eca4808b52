/**
 * A1111 emphasis `(x)`, `[x]`, `(x:1.3)`, escapes and `BREAK` (behaviour of `prompt_parser.parse_prompt_attention`,
 * spec §6.6, vector `prompt_attention.json`), and `AND` composable diffusion (`get_multicond_prompt_list`,
 * spec §6.4, vector `prompt_multicond.json`). Written from the spec and vectors; regexes keep Python's
 * Unicode `\s`/`\b` semantics through py-compat.
 */
import { InvalidParamsError } from '../errors.ts';
import { PY_SPACE_CHARS, PY_WORD_CHARS, pyFloat } from './py-compat.ts';

/** A piece of prompt text and its emphasis multiplier; `['BREAK', -1]` marks a chunk break. */
export type WeightedText = [text: string, weight: number];

/** `(x)` multiplies by 1.1. */
export const ROUND_BRACKET_MULTIPLIER = 1.1;
/** `[x]` multiplies by 1 / 1.1. */
export const SQUARE_BRACKET_MULTIPLIER = 1 / 1.1;

const S = `[${PY_SPACE_CHARS}]`;
/**
 * Emphasis tokens, in A1111's priority: escaped `\( \) \[ \] \\`, a lone `\`, `(`, `[`, `:weight)`, `)`, `]`,
 * a run of text without `\ ( ) [ ] :`, a lone `:`.
 */
const ATTENTION_RE = new RegExp(`\\\\\\(|\\\\\\)|\\\\\\[|\\\\\\]|\\\\\\\\|\\\\|\\(|\\[|:${S}*([+-]?[.0-9]+)${S}*\\)|\\)|\\]|[^\\\\()\\[\\]:]+|:`, 'g');
/** A1111 `re_break`: `\s*\bBREAK\b\s*` (case-sensitive, Unicode word boundaries). */
const BREAK_RE = new RegExp(`${S}*(?<![${PY_WORD_CHARS}])BREAK(?![${PY_WORD_CHARS}])${S}*`, 'u');

/** Appends text split on BREAK, each BREAK becoming a `['BREAK', -1]` marker. */
function pushText(res: WeightedText[], text: string): void {
  text.split(BREAK_RE).forEach((part, i) => {
    if (i > 0) res.push(['BREAK', -1]);
    res.push([part, 1.0]);
  });
}

function multiplyFrom(res: WeightedText[], start: number, multiplier: number): void {
  for (let p = start; p < res.length; p++) res[p][1] *= multiplier;
}

/** Parses a `:weight)` token's number as Python `float()` does, or raises as A1111 does (HTTP 500 there). */
function parseWeight(token: string, weight: string, prompt: string): number {
  const value = pyFloat(weight);
  if (value === undefined) {
    throw new InvalidParamsError(
      'prompt',
      `emphasis weight '${weight}' in '${token}' is not a number (prompt ${JSON.stringify(prompt)}); write it like (text:1.2)`,
    );
  }
  return value;
}

/** Merges neighbours of equal weight, as A1111 does after applying all brackets. */
function mergeEqualWeights(res: WeightedText[]): WeightedText[] {
  if (res.length === 0) return [['', 1.0]];
  const merged: WeightedText[] = [res[0]];
  for (let i = 1; i < res.length; i++) {
    const last = merged[merged.length - 1];
    if (last[1] === res[i][1]) last[0] += res[i][0];
    else merged.push(res[i]);
  }
  return merged;
}

/**
 * A1111 `parse_prompt_attention`: splits a prompt into `[text, weight]` pieces. Unmatched `)`/`]` are text,
 * unclosed `(`/`[` apply to the end; throws InvalidParamsError for a weight like `(a:1.2.3)`.
 *
 * @example
 * parsePromptAttention('a (house:1.3) [on] a hill') // [['a ', 1], ['house', 1.3], [' ', 1], ['on', 0.909…], [' a hill', 1]]
 */
export function parsePromptAttention(prompt: string): WeightedText[] {
  const res: WeightedText[] = [];
  const round: number[] = [];
  const square: number[] = [];
  for (const match of prompt.matchAll(ATTENTION_RE)) {
    const [token, weight] = match;
    if (token.startsWith('\\')) res.push([token.slice(1), 1.0]);
    else if (token === '(') round.push(res.length);
    else if (token === '[') square.push(res.length);
    else if (weight !== undefined && round.length > 0) multiplyFrom(res, round.pop() as number, parseWeight(token, weight, prompt));
    else if (token === ')' && round.length > 0) multiplyFrom(res, round.pop() as number, ROUND_BRACKET_MULTIPLIER);
    else if (token === ']' && square.length > 0) multiplyFrom(res, square.pop() as number, SQUARE_BRACKET_MULTIPLIER);
    else pushText(res, token);
  }
  // unclosed brackets reach the end of the prompt: all round ones first, then square, in opening order
  for (const start of round) multiplyFrom(res, start, ROUND_BRACKET_MULTIPLIER);
  for (const start of square) multiplyFrom(res, start, SQUARE_BRACKET_MULTIPLIER);
  return mergeEqualWeights(res);
}

/** True for the `['BREAK', -1]` marker (inside brackets its weight changes and it is the word "BREAK"). */
export function isBreakMarker([text, weight]: WeightedText): boolean {
  return text === 'BREAK' && weight === -1;
}

/** A1111 `re_AND`: the uppercase word AND. */
const AND_RE = new RegExp(`(?<![${PY_WORD_CHARS}])AND(?![${PY_WORD_CHARS}])`, 'u');
/** A1111 `re_weight`: shortest text, then an optional `:number`, then trailing whitespace. */
const SUBPROMPT_WEIGHT_RE = new RegExp(`^([^]*?)(?:${S}*:${S}*([-+]?(?:[0-9]+\\.?|[0-9]*\\.[0-9]+)))?${S}*$`);

export interface MulticondPromptList {
  /** Per prompt: `[index into flatPrompts, weight]` for each AND part. */
  indexes: Array<Array<[index: number, weight: number]>>;
  /** Distinct part texts, each conditioned once. */
  flatPrompts: string[];
  promptIndexes: Map<string, number>;
}

/** Splits one `AND` part into its text and weight (default 1). */
export function splitSubpromptWeight(subprompt: string): [text: string, weight: number] {
  const match = SUBPROMPT_WEIGHT_RE.exec(subprompt);
  if (!match) return [subprompt, 1.0];
  return [match[1], match[2] === undefined ? 1.0 : Number(match[2])];
}

/**
 * A1111 `get_multicond_prompt_list`: splits each prompt on `AND`, reads each part's `:weight`, and numbers
 * the distinct part texts across the batch (leading whitespace is part of the text).
 *
 * @example
 * getMulticondPromptList(['a AND b:1.5']) // indexes [[[0, 1], [1, 1.5]]], flatPrompts ['a', ' b']
 */
export function getMulticondPromptList(prompts: readonly string[]): MulticondPromptList {
  const flatPrompts: string[] = [];
  const promptIndexes = new Map<string, number>();
  const indexes = prompts.map((prompt) =>
    prompt.split(AND_RE).map((subprompt): [number, number] => {
      const [text, weight] = splitSubpromptWeight(subprompt);
      let index = promptIndexes.get(text);
      if (index === undefined) {
        index = flatPrompts.push(text) - 1;
        promptIndexes.set(text, index);
      }
      return [index, weight];
    }),
  );
  return { indexes, flatPrompts, promptIndexes };
}
