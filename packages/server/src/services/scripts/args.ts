/**
 * Reading `script_args` positions: each reader names the script, the position and the argument in its 422, so
 * a bad value is refused before the job is queued (A1111 fails inside the job with a 500, or not at all).
 */
import { type GeneratedImage, type GenerationHooks, quote, type RgbImage } from '@sdapi/engine';
import { ApiError } from '../errors.ts';
import type { ScriptBase, ScriptResult } from './types.ts';

export class ArgReader {
  constructor(
    private readonly title: string,
    private readonly args: readonly unknown[],
    private readonly names: readonly string[],
  ) {}

  error(index: number, message: string): ApiError {
    return new ApiError(
      'INVALID_PARAMS',
      `${this.title}: script_args[${index}] (${this.names[index]}) ${message}, got ${JSON.stringify(this.args[index] ?? null)}`,
    );
  }

  raw(index: number): unknown {
    return this.args[index];
  }

  /** A checkbox: true/false (0/1 and null accepted as Python would read them). */
  bool(index: number): boolean {
    const v = this.args[index];
    if (typeof v === 'boolean') return v;
    if (v === null || v === 0 || v === 1) return Boolean(v);
    throw this.error(index, 'must be true or false');
  }

  int(index: number, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number {
    const v = this.args[index];
    const n = typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw this.error(index, 'must be an integer');
    if (n < min || n > max) throw this.error(index, `must be from ${min} to ${max}`);
    return n;
  }

  number(index: number, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY): number {
    const v = this.args[index];
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw this.error(index, 'must be a number');
    if (n < min || n > max) throw this.error(index, `must be from ${min} to ${max}`);
    return n;
  }

  string(index: number): string {
    const v = this.args[index];
    if (v === null || v === undefined) return '';
    if (typeof v !== 'string') throw this.error(index, 'must be a string');
    return v;
  }

  choice<T extends string>(index: number, choices: readonly T[]): T {
    const v = this.args[index];
    if (typeof v === 'string' && choices.includes(v as T)) return v as T;
    throw this.error(index, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  }

  /** A list of strings (null → empty). */
  strings(index: number): string[] {
    const v = this.args[index];
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw this.error(index, 'must be a list of strings');
    return v.map(String);
  }
}

/** `args` padded with the declared defaults (§5.1: a short list takes the script's own defaults), surplus dropped. */
export function padArgs(args: readonly unknown[], defaults: readonly unknown[]): unknown[] {
  return defaults.map((d, i) => (i < args.length ? args[i] : structuredClone(d)));
}

/**
 * An infotext with extra `key: value` pairs added where A1111 puts a script's extra_generation_params: after the
 * image's own keys, before `Version` (and `User`).
 */
export function withInfotextKeys(infotext: string, entries: readonly (readonly [string, unknown])[]): string {
  const extra = entries
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${quote(v)}`)
    .join(', ');
  if (extra === '') return infotext;
  const nl = infotext.lastIndexOf('\n');
  const head = nl < 0 ? '' : infotext.slice(0, nl + 1);
  const line = nl < 0 ? infotext : infotext.slice(nl + 1);
  const tail = /, (Version: [^,]*(, User: .*)?|User: .*)$/.exec(line);
  if (!tail) return `${head}${line === '' ? extra : `${line}, ${extra}`}`;
  return `${head}${line.slice(0, tail.index)}, ${extra}${line.slice(tail.index)}`;
}

/** A grid as a result image: it carries the infotext of the image it stands for. */
export function gridImage(grid: RgbImage, like: GeneratedImage | undefined, infotext: string): GeneratedImage {
  return {
    width: grid.width,
    height: grid.height,
    rgb: grid.rgb,
    seed: like?.seed ?? -1,
    subseed: like?.subseed ?? -1,
    prompt: like?.prompt ?? '',
    negativePrompt: like?.negativePrompt ?? '',
    infotext,
  };
}

/** A script result's per-image lists (all_prompts … all_subseeds): one entry per generated image, grids excluded. */
export function imageLists(images: readonly GeneratedImage[]) {
  return {
    allPrompts: images.map((im) => im.prompt),
    allNegativePrompts: images.map((im) => im.negativePrompt),
    allSeeds: images.map((im) => im.seed),
    allSubseeds: images.map((im) => im.subseed),
  };
}

/**
 * Hooks for the k-th of `count` generations of one script job: /progress counts the script's generations
 * (job_no over job_count = count × the engine's own batches), interrupt and skip pass through.
 */
export class ScriptProgress {
  private perRun = 1;

  constructor(
    private readonly hooks: GenerationHooks,
    private readonly count: number,
  ) {}

  get interrupted(): boolean {
    return this.hooks.signal?.aborted === true;
  }

  forRun(k: number): GenerationHooks {
    return {
      signal: this.hooks.signal,
      skipSignal: this.hooks.skipSignal,
      onProgress: (p) => {
        this.perRun = Math.max(1, p.jobCount);
        this.hooks.onProgress?.({ ...p, jobNo: k * this.perRun + p.jobNo, jobCount: this.count * this.perRun });
      },
    };
  }

  /** After the k-th generation: `k + 1` of `count` done. */
  done(k: number): void {
    const jobCount = this.count * this.perRun;
    this.hooks.onProgress?.({ jobNo: Math.min(jobCount, (k + 1) * this.perRun), jobCount, samplingStep: 0, samplingSteps: 0 });
  }
}

/** A typed `scripts` entry with a key the script does not have → 422 naming it and the valid ones. */
export function rejectUnknown(key: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(value))
    if (!known.includes(k)) throw typedError(`${key}.${k}`, value[k], `is not an argument of this script; valid: ${known.join(', ')}`);
}

/** A 422 for a typed `scripts` argument at `path`. */
export function typedError(path: string, value: unknown, message: string): ApiError {
  return new ApiError('INVALID_PARAMS', `scripts.${path} ${message}, got ${JSON.stringify(value ?? null)}`);
}

/** The result of a script run that made no image (interrupted before the first, or nothing to do). */
export function emptyResult(base: ScriptBase, interrupted: boolean): ScriptResult {
  return {
    images: [],
    allPrompts: [],
    allNegativePrompts: [],
    allSeeds: [],
    allSubseeds: [],
    samplerName: base.params.samplerName,
    scheduler: base.params.scheduler,
    clipSkip: base.params.options.CLIP_stop_at_last_layers,
    sdModelName: '',
    sdModelHash: null,
    extraGenerationParams: {},
    jobTimestamp: '',
    interrupted,
    indexOfFirstImage: 0,
  };
}
