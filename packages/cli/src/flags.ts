/**
 * Flag values shared by serve, worker and generate. A bad value is a CliError (usage, exit 2), so it reads as the
 * user's mistake, not as a bug.
 */
import { DEFAULT_CACHE_MAX_BYTES } from '@sdapi/engine';
import { parseRetention, type RetentionPolicy } from '@sdapi/server';
import { CliError } from './output.ts';

/** A positive integer flag (`suffixes`: K, M, G multiply by 1024, 1024², 1024³); undefined when absent. */
export function positiveFlag(flag: string, text: string | undefined, suffixes = false): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([KMG]?)$/i.exec(text.trim());
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match?.[2] ?? '').toUpperCase()] ?? 1;
  const n = match && (suffixes || !match[2]) ? Number(match[1]) * scale : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer${suffixes ? ' (K, M, G allowed)' : ''}, got '${text}'`);
  return n;
}

/** A non-negative integer flag. */
export function countFlag(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be a non-negative integer, got '${text}'`);
  return n;
}

/** `--jobs-retention N[,A]`; undefined when absent. */
export function retentionFlag(text: string | undefined): RetentionPolicy | undefined {
  if (text === undefined) return undefined;
  try {
    return parseRetention(text);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** `--onnx-cache-max-gb N`: the size cap of `<data-dir>/cache/onnx` (engine runtime/onnx-cache.ts). */

export const ONNX_CACHE_FLAG = { 'onnx-cache-max-gb': { type: 'string' } } as const;

/** The help lines, the description starting at `column` (serve and worker use 25, generate 27). */
export function onnxCacheHelp(column = 25): string {
  const flag = '  --onnx-cache-max-gb N';
  return `${flag.padEnd(column)}size cap of <data-dir>/cache/onnx, the compiled models (default ${DEFAULT_CACHE_MAX_BYTES / 1024 ** 3}): past it the
${' '.repeat(column)}least recently used go; entries of deleted or changed checkpoints always go`;
}

/** The flag's value in bytes (undefined: the engine's default); anything but a positive number is refused. */
export function onnxCacheMaxBytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const gb = Number(text);
  if (!(text.trim() !== '' && Number.isFinite(gb) && gb > 0)) throw new CliError(`--onnx-cache-max-gb must be a positive number of GiB, got '${text}'`);
  return Math.round(gb * 1024 ** 3);
}

/** A URL with its password shown as `***` (a `--redis` URL in logs and in GET /cmd-flags). */
export function maskPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return '***'; // not a URL: the connection refuses it; show nothing of it
  }
}
