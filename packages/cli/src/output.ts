/**
 * How the CLI ends: one-line errors with a hint (llm.c HINT style) and exit codes that scripts can branch on.
 * Uses only the client's public error classes; engine errors are recognised by their name.
 */
import { APIConnectionError, APIError, APIUserAbortError } from '@sdapi/client';

/** Exit codes (documented in `sdapi --help` and the README). */
export const EXIT = {
  OK: 0,
  /** An unexpected failure (a bug: please report it). */
  INTERNAL: 1,
  /** Bad command line: unknown command or flag, a flag value of the wrong type, a missing required flag. */
  USAGE: 2,
  /** Bad input: a missing or unreadable file, a file that is not a checkpoint or image, invalid generation parameters. */
  INPUT: 3,
  /** The server rejected the request (HTTP 4xx: validation, unknown sampler/model, auth). */
  REJECTED: 4,
  /** The server failed (HTTP 5xx, including A1111's 500s for bad images or unknown upscalers). */
  SERVER: 5,
  /** The server could not be reached or timed out. */
  UNREACHABLE: 6,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export const EXIT_CODES_HELP = `exit codes:
  0 ok · 1 internal error · 2 usage error · 3 bad input (file, checkpoint, parameters)
  4 the server rejected the request (4xx) · 5 the server failed (5xx) · 6 server unreachable or timed out · 130 interrupted`;

/** An error the CLI expects, with its exit code and a hint. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Prints `error: message (hint: …)` on stderr; returns the exit code. */
export function fail(message: string, hint?: string, exitCode: number = EXIT.INTERNAL): number {
  console.error(`error: ${message.split('\n')[0]}${hint ? ` (hint: ${hint})` : ''}`);
  return exitCode;
}

const INPUT_ERRORS = new Set(['CheckpointError', 'UnsupportedModelError', 'InvalidParamsError', 'ImageDecodeError']);

/** Any thrown value → one line on stderr and the exit code for it. */
export function reportError(error: unknown): number {
  if (error instanceof CliError) return fail(error.message, error.hint, error.exitCode);
  if (error instanceof APIUserAbortError) return fail('interrupted', undefined, EXIT.INTERRUPTED);
  if (error instanceof APIConnectionError) return fail(error.message, 'is the server running? check the --remote URL', EXIT.UNREACHABLE);
  if (error instanceof APIError) return fail(error.message, apiHint(error.status ?? 0), (error.status ?? 0) >= 500 ? EXIT.SERVER : EXIT.REJECTED);
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT' || e?.code === 'EISDIR' || e?.code === 'EACCES') return fail(e.message, 'check the file path', EXIT.INPUT);
  if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) return fail(e.message, 'run with --help for the options', EXIT.USAGE);
  if (INPUT_ERRORS.has(e?.name ?? '') || INPUT_ERRORS.has(e?.constructor?.name ?? '')) return fail(e.message, undefined, EXIT.INPUT);
  if (e?.name === 'ConfigError') return fail(e.message, 'run with --help for the options', EXIT.USAGE);
  return fail(e?.message ?? String(error), 'this looks like a bug; please report it with the command line', EXIT.INTERNAL);
}

function apiHint(status: number): string | undefined {
  if (status === 401) return 'pass --auth USER:PASS (the server runs with --api-auth)';
  if (status === 404) return 'the server does not have this route (an older A1111, or a missing extension)';
  if (status === 413) return 'the request is too large for the server; use smaller images';
  if (status === 422) return 'check the named field or value (`sdapi models --remote URL` lists checkpoints)';
  if (status === 503) return 'the server is busy or starting; try again';
  return undefined;
}

/** Machine-readable output for --json: one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
