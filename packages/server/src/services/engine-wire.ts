/**
 * What a generation result carries that a structured clone (the engine process's or thread's messages) cannot:
 * infotext callbacks and PyFloat numbers (a class: a clone keeps the number, not that it is a Python float) in
 * `extraGenerationParams`. The engine side writes them as plain data, the server side reads them back; callbacks
 * become null, which is what the server's `info` JSON writes for them anyway (pyJsonDumps).
 */
import { PyFloat } from '@sdapi/engine';

const TAG = '__pyFloat';

type WithExtra = { extraGenerationParams?: Record<string, unknown> };

const mapExtra = (result: unknown, map: (v: unknown) => unknown): unknown => {
  const extra = (result as WithExtra | null)?.extraGenerationParams;
  if (!extra || typeof extra !== 'object') return result;
  return { ...(result as object), extraGenerationParams: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, map(v)])) };
};

/** Engine side: a result as it can be posted. */
export function resultToWire(result: unknown): unknown {
  return mapExtra(result, (v) => (typeof v === 'function' ? null : v instanceof PyFloat ? { [TAG]: v.value } : v));
}

/** Server side: the result as the engine returned it (callbacks excepted). */
export function resultFromWire(result: unknown): unknown {
  return mapExtra(result, (v) => (v && typeof v === 'object' && TAG in v ? new PyFloat((v as Record<string, number>)[TAG]) : v));
}
