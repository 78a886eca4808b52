/** One-line errors with an optional hint (llm.c HINT style); returns the exit code. */
export function fail(message: string, hint?: string): number {
  console.error(`error: ${message}${hint ? ` (hint: ${hint})` : ''}`);
  return 1;
}
