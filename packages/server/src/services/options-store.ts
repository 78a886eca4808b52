/**
 * A1111's settings store (spec §3.8–3.9): defaults from the v1.10.1 table, values stored in `<data-dir>/config.json`
 * (only keys that were set, so a fresh install answers GET with the defaults' own types), A1111's POST semantics.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PyFloat, pyRepr } from '@sdapi/engine';
import { coerce } from '@sdapi/protocol';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-file.ts';
import { PythonError, RequestValidationError } from './errors.ts';
import { OPTION_TABLE, type OptionType, RESTRICTED_OPTIONS } from './option-defaults.ts';

const DEFAULTS = new Map(OPTION_TABLE.map(([key, value]) => [key, value]));
const TYPES = new Map(OPTION_TABLE.map(([key, , type]) => [key, type]));

/** Infotext key → option key (spec §8.5), for callers that map infotext parameters to settings. */
export const OPTION_BY_INFOTEXT: ReadonlyMap<string, string> = new Map(
  OPTION_TABLE.filter((row) => row[3] !== undefined).map(([key, , , infotext]) => [infotext as string, key]),
);

/** What the store needs to apply a checkpoint change (§3.9 step 1 and the change callback). */
export interface CheckpointHooks {
  /** The checkpoint whose exact alias (§9.3) is `value`, or undefined. */
  resolve(value: string): Promise<{ title: string; sha256: string | null } | undefined>;
  /** Loads it (under the generation queue) and returns its title and hash after loading. */
  load(value: string): Promise<{ title: string; sha256: string | null }>;
}

export class OptionsStore {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly data: Record<string, unknown>,
    private readonly file: string | undefined,
  ) {}

  /** Opens `<dataDir>/config.json` (absent = fresh install); without a data dir the store lives in memory only. */
  static async open(dataDir?: string): Promise<OptionsStore> {
    if (!dataDir) return new OptionsStore({}, undefined);
    const file = join(dataDir, 'config.json');
    await removeStaleTemporaries(dataDir, 'config.json'); // what a crash mid-save left beside it
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new OptionsStore({}, file);
      throw e;
    }
    const data: unknown = JSON.parse(text);
    if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`${file}: expected a JSON object of settings`);
    return new OptionsStore(data as Record<string, unknown>, file);
  }

  isKnown(key: string): boolean {
    return DEFAULTS.has(key);
  }

  /** The value in force: the stored one, else the default (PyFloat defaults unboxed). */
  value(key: string): unknown {
    const v = Object.hasOwn(this.data, key) ? this.data[key] : DEFAULTS.get(key);
    return v instanceof PyFloat ? v.value : v;
  }

  /** Every known option with the value in force, for building a job's options. */
  effective(): Record<string, unknown> {
    return Object.fromEntries(OPTION_TABLE.map(([key]) => [key, this.value(key)]));
  }

  /**
   * GET /sdapi/v1/options: every known key in table order; stored values validated by the response model's type
   * (a stored int in a float option comes back as `80.0`), unset keys as their defaults. Unknown stored keys are
   * dropped. A stored value the type refuses fails the request, as in A1111.
   */
  responseBody(overlay: Record<string, unknown> = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, defaultValue, type] of OPTION_TABLE) {
      if (Object.hasOwn(overlay, key)) out[key] = overlay[key];
      else out[key] = Object.hasOwn(this.data, key) ? typedStored(key, type, this.data[key]) : defaultValue;
    }
    return out;
  }

  /** The values set (what config.json holds), for sharing them with a cluster (jobs/redis/shared-options.ts). */
  storedValues(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.data)) as Record<string, unknown>;
  }

  /** Takes the cluster's settings in place of this node's, in memory (config.json is left as it was). */
  adopt(data: Record<string, unknown>): void {
    for (const key of Object.keys(this.data)) delete this.data[key];
    Object.assign(this.data, data);
  }

  /** Sets a value in memory without saving (override_settings_restore_afterwards: false). */
  setInMemory(key: string, value: unknown): void {
    this.data[key] = value;
  }

  /**
   * POST /sdapi/v1/options (§3.9): every key and value is checked before anything changes (issue 7; A1111 applies
   * the keys before an unknown one in memory and takes any value): an unknown key is A1111's KeyError body, a value
   * the option's type refuses a FastAPI 422 naming `body.<key>`. Then the checkpoint alias check, each key in body
   * order (restricted keys ignored), then config.json is written. Returns the values the body set (changed or not,
   * so that sending a body again shares it again with a cluster; a checkpoint brings its hash, undefined when
   * unknown), as decided here: a cluster shares these, not whatever the store holds by the time it publishes.
   */
  async update(body: Record<string, unknown>, checkpoints: CheckpointHooks): Promise<Record<string, unknown>> {
    const values = this.checked(body);
    if (Object.hasOwn(body, 'sd_model_checkpoint')) {
      const wanted = body.sd_model_checkpoint;
      const found = typeof wanted === 'string' ? await checkpoints.resolve(wanted) : undefined;
      if (!found) throw new PythonError('RuntimeError', `model ${pyRepr(wanted)} not found`, 422);
    }
    const set: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (!this.isKnown(key)) throw new PythonError('KeyError', pyRepr(key), 422);
      if (RESTRICTED_OPTIONS.has(key)) continue;
      const unchanged = isDeepStrictEqual(values[key], this.value(key));
      if (key === 'sd_model_checkpoint') {
        if (!unchanged) await this.switchCheckpoint(value as string, checkpoints);
        set.sd_model_checkpoint = this.data.sd_model_checkpoint;
        set.sd_checkpoint_hash = this.data.sd_checkpoint_hash;
      } else {
        if (!unchanged) this.data[key] = values[key];
        set[key] = values[key];
      }
    }
    await this.save();
    return set;
  }

  /** The body's values coerced to their options' types (pydantic's rules); throws before anything is applied. */
  private checked(body: Record<string, unknown>): Record<string, unknown> {
    const unknown = Object.keys(body).find((key) => !this.isKnown(key));
    if (unknown !== undefined) throw new PythonError('KeyError', pyRepr(unknown), 422);
    const values: Record<string, unknown> = {};
    const issues = [];
    for (const [key, value] of Object.entries(body)) {
      const type = TYPES.get(key);
      if (type === undefined || type === 'any' || value === null) {
        values[key] = value;
        continue;
      }
      const out = coerce(TYPE_SCHEMAS[type], value, ['body', key]);
      // "NaN"/"inf" coerce to non-finite floats (pydantic's rules), which no JSON can carry: GET /options and every
      // infotext would then fail (a 500 the fuzzer found). Refused here instead.
      if (out.ok && typeof out.value === 'number' && !Number.isFinite(out.value)) {
        issues.push({ loc: ['body', key], msg: 'ensure this value is a finite number', type: 'value_error.number.not_finite' });
      } else if (out.ok) values[key] = out.value;
      else issues.push(...out.errors);
    }
    if (issues.length > 0) throw new RequestValidationError(issues);
    return values;
  }

  /** Records a loaded checkpoint the way A1111 does (title + full hash), e.g. after a load at start-up. */
  recordCheckpoint(loaded: { title: string; sha256: string | null }): void {
    this.data.sd_model_checkpoint = loaded.title;
    if (loaded.sha256) this.data.sd_checkpoint_hash = loaded.sha256;
  }

  private async switchCheckpoint(value: string, checkpoints: CheckpointHooks): Promise<void> {
    // A1111 logs a failed load and answers 200; we let the error through so the client learns the switch failed.
    this.recordCheckpoint(await checkpoints.load(value));
  }

  /**
   * Writes config.json atomically (temp, fsync, rename, fsync of the folder). Saves are serialised, each writing
   * the state current when it runs, so concurrent POSTs cannot interleave and a crash leaves the old or new file.
   */
  private save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const run = this.saving.then(() => writeFileAtomic(file, `${JSON.stringify(this.data, null, 4)}\n`));
    this.saving = run.catch(() => undefined);
    return run;
  }
}

const TYPE_SCHEMAS: Record<Exclude<OptionType, 'any'>, object> = {
  float: { type: 'number' },
  bool: { type: 'boolean' },
  str: { type: 'string' },
  list: { type: 'array' },
};

function typedStored(key: string, type: OptionType, value: unknown): unknown {
  // Untyped options pass through; a number stored for a float default was a float on the client's side (JSON
  // cannot tell us, and config.json written by JSON.stringify loses the `.0`).
  if (type === 'any') return typeof value === 'number' && DEFAULTS.get(key) instanceof PyFloat ? new PyFloat(value) : value;
  if (value === null) return value;
  const out = coerce(TYPE_SCHEMAS[type], value, [key]);
  if (!out.ok) {
    const e = out.errors[0];
    throw new PythonError('ValidationError', `1 validation error for OptionsModel\n${key}\n  ${e.msg} (type=${e.type})`, 422);
  }
  return type === 'float' ? new PyFloat(out.value as number) : out.value;
}
