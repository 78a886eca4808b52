/** `--jobs-retention COUNT[,AGE]` (e.g. `1000,7d`): how many finished jobs to keep, and for how long. */
import type { RetentionPolicy } from './types.ts';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses the flag value; AGE is a number with a unit s, m, h or d (default when left out: 7d). */
export function parseRetention(text: string): RetentionPolicy {
  const match = /^\s*(\d+)\s*(?:,\s*(\d+(?:\.\d+)?)\s*([smhd]))?\s*$/.exec(text);
  if (!match) throw new Error(`--jobs-retention must be COUNT or COUNT,AGE with AGE like 90m, 12h or 7d, got '${text}'`);
  const maxAgeMs = match[2] ? Number(match[2]) * UNIT_MS[match[3]] : 7 * UNIT_MS.d;
  return { maxCount: Number(match[1]), maxAgeMs };
}
