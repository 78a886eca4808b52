/**
 * The selectable scripts this server has, and how a request selects one (spec §5.1): `script_name` matched
 * case-insensitively against the tab's titles (unknown → 422 `Script '<name>' not found`), `script_args` padded
 * with the script's own defaults (a short list) or cut (surplus), or the typed form `scripts: {<key>: {...}}`.
 * GET /scripts and /script-info list exactly these, plus the always-on ControlNet entry.
 */
import type { ScriptInfo, ScriptsList } from '@sdapi/protocol';
import { ApiError } from '../errors.ts';
import { loopback } from './loopback.ts';
import { outpaintingMk2 } from './outpainting-mk2.ts';
import { poorMansOutpainting } from './poor-mans-outpainting.ts';
import { promptMatrix } from './prompt-matrix.ts';
import { promptsFromFile } from './prompts-from-file.ts';
import { sdUpscale } from './sd-upscale.ts';
import type { PreparedScript, ScriptBase, ScriptDef, ScriptEnv, ScriptTab } from './types.ts';
import { xyzPlot } from './xyz-plot.ts';

/** In A1111's listing order (script files alphabetically). */
export const SCRIPTS: readonly ScriptDef[] = [loopback, outpaintingMk2, poorMansOutpainting, promptMatrix, promptsFromFile, sdUpscale, xyzPlot];

const forTab = (tab: ScriptTab) => SCRIPTS.filter((s) => s.tabs.includes(tab));

/** GET /scripts: lower-cased titles per tab, the always-on scripts after the selectable ones. */
export function scriptsList(alwaysOn: readonly string[]): ScriptsList {
  const names = (tab: ScriptTab) => [...forTab(tab).map((s) => s.title.toLowerCase()), ...alwaysOn];
  return { txt2img: names('txt2img'), img2img: names('img2img') };
}

/** GET /script-info: txt2img scripts then img2img scripts, each with its arguments; `alwaysOn(tab)` appends extensions. */
export function scriptInfo(env: (tab: ScriptTab) => ScriptEnv, alwaysOn: (tab: ScriptTab) => ScriptInfo[]): ScriptInfo[] {
  return (['txt2img', 'img2img'] as const).flatMap((tab) => [
    ...forTab(tab).map((s) => ({ name: s.title.toLowerCase(), is_alwayson: false, is_img2img: tab === 'img2img', args: s.args(env(tab)) })),
    ...alwaysOn(tab),
  ]);
}

interface ScriptFields {
  script_name?: string | null;
  script_args?: unknown[] | null;
  scripts?: Record<string, Record<string, unknown>> | null;
}

/** Whether the request selects a script at all (by name or in typed form). */
export function selectsScript(body: ScriptFields): boolean {
  return Boolean(body.script_name) || (body.scripts != null && Object.keys(body.scripts).length > 0);
}

/** The request's script, checked against the base job; null when none is selected. */
export function prepareScript(body: ScriptFields, base: ScriptBase, env: ScriptEnv): PreparedScript | null {
  const selection = selectScript(body, env);
  return selection ? selection.script.prepare(selection.args, base, env) : null;
}

function selectScript(body: ScriptFields, env: ScriptEnv): { script: ScriptDef; args: unknown[] } | null {
  const typed = body.scripts ?? {};
  const keys = Object.keys(typed);
  if (keys.length > 0) {
    if (body.script_name)
      throw new ApiError('INVALID_PARAMS', `send either script_name (${JSON.stringify(body.script_name)}) or scripts (${keys.join(', ')}), not both`);
    if (keys.length > 1) throw new ApiError('INVALID_PARAMS', `scripts may select one script, got ${keys.join(', ')}`);
    const key = keys[0];
    const script = forTab(env.tab).find((s) => s.key === key);
    if (!script)
      throw new ApiError(
        'INVALID_PARAMS',
        `scripts.${key} is not a ${env.tab} script here; valid: ${forTab(env.tab)
          .map((s) => s.key)
          .join(', ')}`,
      );
    const value = typed[key];
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new ApiError('INVALID_PARAMS', `scripts.${key} must be an object of the script's arguments, got ${JSON.stringify(value)}`);
    return { script, args: script.fromTyped(value, env) };
  }
  if (!body.script_name) return null;
  const name = body.script_name.toLowerCase();
  const script = forTab(env.tab).find((s) => s.title.toLowerCase() === name);
  if (!script) throw new ApiError('SCRIPT_NOT_FOUND', `Script '${body.script_name}' not found`);
  return { script, args: body.script_args ?? [] };
}

/** A1111 v1.10.1's selectable script titles per tab (ours and those this server does not have). */
const A1111_SELECTABLE: Record<ScriptTab, readonly string[]> = {
  txt2img: ['prompt matrix', 'prompts from file or textbox', 'x/y/z plot', 'custom code'],
  img2img: [
    'img2img alternative test',
    'loopback',
    'outpainting mk2',
    "poor man's outpainting",
    'prompt matrix',
    'prompts from file or textbox',
    'sd upscale',
    'x/y/z plot',
    'custom code',
  ],
};

/**
 * Built-in always-on scripts A1111 accepts under `alwayson_scripts` without effect on API jobs (§5.2: Sampler, Seed
 * and Refiner take the request fields; Extra options has no arguments by default; Hypertile and Comments have no
 * controls), plus the ControlNet extension, which services/controlnet.ts reads.
 */
const ALWAYS_ON: Record<ScriptTab, readonly string[]> = {
  txt2img: ['controlnet', 'extra options', 'refiner', 'sampler', 'seed', 'hypertile', 'comments'],
  img2img: ['controlnet', 'extra options', 'soft inpainting', 'refiner', 'sampler', 'seed', 'hypertile', 'comments'],
};

/**
 * `alwayson_scripts` keys (§5.2): a selectable script → 422 `Cannot have a selectable script in the always on
 * scripts params`; a script this server does not have (an extension such as ADetailer) → 422 `Script '<key>' not
 * found`, as A1111 without that extension answers; Soft Inpainting enabled → 422 (not implemented here).
 */
export function checkAlwaysOn(tab: ScriptTab, alwaysOn: Record<string, unknown> | null | undefined): void {
  for (const [key, value] of Object.entries(alwaysOn ?? {})) {
    const name = key.toLowerCase();
    if (A1111_SELECTABLE[tab].includes(name)) throw new ApiError('SCRIPT_NOT_FOUND', 'Cannot have a selectable script in the always on scripts params');
    if (!ALWAYS_ON[tab].includes(name)) throw new ApiError('SCRIPT_NOT_FOUND', `Script '${key}' not found`);
    const args = (value as { args?: unknown } | null)?.args;
    if (name === 'soft inpainting' && Array.isArray(args) && args[0] === true) {
      throw new ApiError(
        'UNSUPPORTED_PARAM',
        'alwayson_scripts["soft inpainting"]: Soft Inpainting is not implemented by this server; send enabled false or leave it out',
      );
    }
  }
}
