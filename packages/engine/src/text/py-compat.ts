/**
 * Python `re` semantics that JavaScript regexes do not share, as regex source fragments. A1111 and CLIP run
 * their prompt regexes in Python, where `\s` and `\w` are Unicode-aware (`str.isspace()` / `str.isalnum()`),
 * while JavaScript's `\s` lacks U+001C–U+001F and U+0085 and its `\w`/`\b` are ASCII-only even with the `u` flag.
 */

/** Characters of Python's `\s` for str patterns (the `str.isspace()` set), for use inside `[...]`. */
export const PY_SPACE_CHARS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Characters of Python's `\w` for str patterns (letters, numbers, underscore), for `[...]` with the `u` flag. */
export const PY_WORD_CHARS = '\\p{L}\\p{N}_';

const STRIP_RE = new RegExp(`^[${PY_SPACE_CHARS}]+|[${PY_SPACE_CHARS}]+$`, 'g');

/** Python `str.strip()` with no arguments. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

const PY_FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Python `float(s)` for the decimal literals prompt syntax can contain (surrounding whitespace allowed, as
 * Python allows it); `undefined` where Python raises ValueError (`'1.2.3'`, `'.'`, `'+'`).
 */
export function pyFloat(text: string): number | undefined {
  const s = pyStrip(text);
  return PY_FLOAT_RE.test(s) ? Number(s) : undefined;
}
