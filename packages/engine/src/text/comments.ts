/**
 * The builtin "Comments" behaviour (A1111 option `enable_prompt_comments`, spec §6.2): applied to every
 * prompt, negative prompt and hires prompt before anything else reads them; infotexts record the result.
 */

/**
 * Removes every line that starts with `#` (with its newline), then cuts each remaining `#` to the end of its
 * line (keeping the newline).
 *
 * @example
 * stripComments('# style notes\na cat # fluffy\nin a hat') // 'a cat \nin a hat'
 */
export function stripComments(text: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.startsWith('#')) {
      // a comment line goes with its own newline; on the last line that is the newline before it
      if (i === lines.length - 1 && kept.length > 0) kept[kept.length - 1] += '\n';
      continue;
    }
    kept.push(line);
  }
  return kept.map((line) => (line.includes('#') ? line.slice(0, line.indexOf('#')) : line)).join('\n');
}
