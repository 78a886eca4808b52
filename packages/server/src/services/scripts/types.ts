/**
 * The script framework's contract (spec §5.1): a selectable script declares its arguments (what /script-info
 * lists and what pads a short `script_args`), checks them against the request before anything is queued
 * (`prepare` throws a 422 naming the argument), and then runs the whole job inside the one queue job through a
 * ScriptExecutor that generates with the job's checkpoint, as many times as it needs.
 */
import type { GenerationHooks, Img2ImgParams, ModelUpscale, Txt2ImgParams, Txt2ImgResult } from '@sdapi/engine';
import type { ScriptArg } from '@sdapi/protocol';
import type { Catalog } from '../catalog.ts';
import type { CheckpointFile } from '../generator.ts';
import type { RefinerRequest } from '../refiner.ts';

export type ScriptTab = 'txt2img' | 'img2img';

/** What a script may look at while preparing: the tab, the options in force and the server's tables. */
export interface ScriptEnv {
  tab: ScriptTab;
  catalog: Catalog;
  options: Record<string, unknown>;
  checkpoints: readonly CheckpointFile[];
  /** The GET /upscalers names: the built-in ones, then the model upscalers (ESRGAN files). */
  upscalers: readonly string[];
  /** Runs a model upscaler (in the engine's process); absent: the built-in upscalers only. */
  modelUpscale?: ModelUpscale;
  latentModes: readonly string[];
  /** Names in styles.csv. */
  styleNames: readonly string[];
  /** VAE file names (GET /sd-vae `model_name`). */
  vaeNames: readonly string[];
}

/** The job the request maps to without the script: the params every generation of the script starts from. */
export interface ScriptBase {
  params: Txt2ImgParams | Img2ImgParams;
  checkpointOverride: string | null;
  /** The request's refiner_checkpoint / refiner_switch_at (null: none). */
  refiner?: RefinerRequest | null;
}

/**
 * Runs generations inside the script's queue job (the checkpoint is loaded first, styles applied). `refiner`:
 * the generation's own refiner (an X/Y/Z cell's); undefined: the job's.
 */
export interface ScriptExecutor {
  generate(
    params: Txt2ImgParams | Img2ImgParams,
    checkpointOverride: string | null,
    hooks: GenerationHooks,
    refiner?: RefinerRequest | null,
  ): Promise<Txt2ImgResult>;
}

/** The script's whole output: what the route answers (`images` with grids first when `indexOfFirstImage` is 1). */
export type ScriptResult = Txt2ImgResult & { indexOfFirstImage: number };

export interface PreparedScript {
  title: string;
  /** /progress `job_count` at the start (updated as the script learns the engine's own count). */
  jobCount: number;
  run(exec: ScriptExecutor, hooks: GenerationHooks): Promise<ScriptResult>;
}

export interface ScriptDef {
  /** A1111's title (`X/Y/Z plot`); `/scripts` lists it lower-cased. */
  title: string;
  /** The key of the typed form `scripts: {<key>: {...}}`. */
  key: string;
  tabs: readonly ScriptTab[];
  /** The argument definitions in `script_args` order, defaults in `value` (choices may depend on the server's tables). */
  args(env: ScriptEnv): ScriptArg[];
  /** The typed form → `script_args` (throws a 422 naming the field). */
  fromTyped(value: Record<string, unknown>, env: ScriptEnv): unknown[];
  /** Checks the arguments (already padded to the declared length) against the request; throws a 422 naming the first bad one. */
  prepare(args: unknown[], base: ScriptBase, env: ScriptEnv): PreparedScript;
}

export function arg(label: string, value: unknown, extra: Partial<Omit<ScriptArg, 'label' | 'value'>> = {}): ScriptArg {
  return { label, value, minimum: null, maximum: null, step: null, choices: null, ...extra };
}
