/**
 * What each X/Y/Z plot axis does here (spec §5.3 tables, vector xyz_axis_options.json `applies`/`format`): how a
 * cell value changes the job, how it is checked before the job (A1111's `confirm` functions, plus checks A1111
 * only fails on midway), how it is printed in the legend, and the dropdown choices. Axes whose feature this server
 * does not have (NGMS, beta schedule parameters, face restoration, token merging, FP8,
 * image CFG for instruct-pix2pix) are refused by name with a 422 instead of being silently ignored.
 */

import type { Img2ImgParams, Txt2ImgParams } from '@sdapi/engine';
import { formatXyzValue, type XyzAxisOption } from '@sdapi/protocol';
import { resolveSampler } from '../catalog.ts';
import { checkpointTitle } from '../checkpoints.ts';
import { findCheckpointFuzzy, isNoRefiner, type RefinerRequest, refinerRequest } from '../refiner.ts';
import type { ScriptBase, ScriptEnv } from './types.ts';

/** One cell's job: a copy of the base params that the axes modify, the checkpoint it runs on and its refiner. */
export interface Cell {
  /** Txt2ImgParams, or Img2ImgParams on the img2img tab (`initImages` present). */
  params: Txt2ImgParams & Partial<Pick<Img2ImgParams, 'initImages' | 'initialNoiseMultiplier'>>;
  checkpoint: string | null;
  /** A1111's p.refiner_checkpoint and p.refiner_switch_at, two fields the axes set apart (null checkpoint: none). */
  refiner: { checkpoint: string | null; switchAt: number | null };
}

export interface AxisBehaviour {
  apply(cell: Cell, value: unknown, all: readonly unknown[]): void;
  /** Checks (and may normalise) the values before any image is made; throws Error(message). */
  confirm?(values: unknown[], env: ScriptEnv, base: ScriptBase): unknown[];
  /** Legend text of a value (default `Label: value`). */
  format?: 'value' | 'remove_path' | 'join_list' | 'nothing';
  choices?(env: ScriptEnv): string[];
  /** Why this server cannot run the axis (→ 422 naming it). */
  unsupported?: string;
}

const setOption = (cell: Cell, key: string, value: unknown) => {
  cell.params.options = { ...cell.params.options, [key]: value } as Txt2ImgParams['options'];
};
const field =
  <K extends keyof Cell['params']>(key: K) =>
  (cell: Cell, v: unknown) => {
    (cell.params as unknown as Record<string, unknown>)[key as string] = v;
  };
const override = (key: string) => (cell: Cell, v: unknown) => setOption(cell, key, v);
const boolOverride = (key: string) => (cell: Cell, v: unknown) => setOption(cell, key, String(v).toLowerCase() === 'true');
const noEffect = () => {};
/** The cell's refiner as the executor takes it (the request fields' own rule: null when its checkpoint is none). */
export function cellRefiner(cell: Cell): RefinerRequest | null {
  return refinerRequest({ refiner_checkpoint: cell.refiner.checkpoint, refiner_switch_at: cell.refiner.switchAt });
}

const samplerNames = (env: ScriptEnv) => env.catalog.samplers.map((s) => s.name);
function confirmSamplers(values: unknown[], env: ScriptEnv): unknown[] {
  return values.map((v) => {
    try {
      return resolveSampler(env.catalog, String(v), null).sampler;
    } catch {
      throw new Error(`Unknown sampler: ${String(v)} (valid: ${samplerNames(env).join(', ')})`);
    }
  });
}

function hires(cell: Cell): NonNullable<Txt2ImgParams['hires']> | null {
  return cell.params.hires ? (cell.params.hires = { ...cell.params.hires }) : null;
}

const UNSUPPORTED = {
  ngms: 'negative guidance minimum sigma (s_min_uncond) is not implemented by this server',
  beta: 'the beta schedule parameters are fixed at A1111 defaults (0.6) in this server',
  faces: 'face restoration is not available on this server',
  tome: 'token merging is not implemented by this server',
  fp8: 'FP8 weight storage is not available (onnxruntime on CPU)',
  imageCfg: 'image CFG scale applies to instruct-pix2pix models, which this server does not run',
};

export const AXIS_BEHAVIOUR: Record<string, AxisBehaviour> = {
  Nothing: { apply: noEffect, format: 'nothing' },
  Seed: { apply: field('seed') },
  'Var. seed': { apply: field('subseed') },
  'Var. strength': { apply: field('subseedStrength') },
  Steps: {
    apply: field('steps'),
    confirm: (vs) => vs.map((v) => (Number(v) >= 1 ? v : fail(`steps must be at least 1, got ${v}`))),
  },
  'Hires steps': {
    apply: (cell, v) => {
      const h = hires(cell);
      if (h) h.secondPassSteps = Number(v);
    },
  },
  'CFG Scale': { apply: field('cfgScale') },
  'Image CFG Scale': { apply: noEffect, unsupported: UNSUPPORTED.imageCfg },
  'Prompt S/R': {
    format: 'value',
    apply: (cell, v, all) => {
      const [search, replace] = [String(all[0]), String(v)];
      cell.params.prompt = cell.params.prompt.replaceAll(search, replace);
      cell.params.negativePrompt = cell.params.negativePrompt.replaceAll(search, replace);
      const h = hires(cell);
      if (h) Object.assign(h, { prompt: h.prompt.replaceAll(search, replace), negativePrompt: h.negativePrompt.replaceAll(search, replace) });
    },
    confirm: (vs, _env, base) => {
      const first = String(vs[0]);
      if (!base.params.prompt.includes(first) && !base.params.negativePrompt.includes(first)) {
        throw new Error(`Prompt S/R did not find ${first} in prompt or negative prompt.`);
      }
      return vs;
    },
  },
  'Prompt order': { format: 'join_list', apply: (cell, v) => (cell.params.prompt = applyOrder(cell.params.prompt, v as string[])) },
  Sampler: { format: 'value', apply: field('samplerName'), confirm: confirmSamplers, choices: samplerNames },
  'Hires sampler': {
    apply: (cell, v) => {
      const h = hires(cell);
      if (h) h.samplerName = String(v);
    },
    confirm: confirmSamplers,
    choices: samplerNames,
  },
  'Checkpoint name': {
    format: 'remove_path',
    apply: (cell, v) => (cell.checkpoint = String(v)),
    confirm: (vs, env) =>
      vs.map((v) => {
        const file = findCheckpointFuzzy(env.checkpoints, String(v));
        if (!file) throw new Error(`Unknown checkpoint: ${String(v)} (valid: ${env.checkpoints.map(checkpointTitle).join(', ')})`);
        if (file.error) throw new Error(`checkpoint ${file.name} cannot be loaded: ${file.error}`);
        return file.name;
      }),
    choices: (env) => env.checkpoints.map(checkpointTitle),
  },
  'Negative Guidance minimum sigma': { apply: noEffect, unsupported: UNSUPPORTED.ngms },
  // A1111 v1.10.1 sets request fields that its k-diffusion samplers do not read (they read the options): no effect.
  'Sigma Churn': { apply: noEffect },
  'Sigma min': { apply: noEffect },
  'Sigma max': { apply: noEffect },
  'Sigma noise': { apply: noEffect },
  'Schedule type': {
    apply: field('scheduler'),
    confirm: (vs, env) =>
      vs.map((v) => {
        const s = env.catalog.schedulers.find((x) => x.label === v || x.name === v);
        if (!s) throw new Error(`Unknown schedule type: ${String(v)} (valid: ${env.catalog.schedulers.map((x) => x.label).join(', ')})`);
        return s.label;
      }),
    choices: (env) => env.catalog.schedulers.map((s) => s.label),
  },
  'Schedule min sigma': { apply: override('sigma_min') },
  'Schedule max sigma': { apply: override('sigma_max') },
  'Schedule rho': { apply: override('rho') },
  'Beta schedule alpha': { apply: noEffect, unsupported: UNSUPPORTED.beta },
  'Beta schedule beta': { apply: noEffect, unsupported: UNSUPPORTED.beta },
  Eta: { apply: field('eta') },
  'Clip skip': { apply: override('CLIP_stop_at_last_layers') },
  Denoising: { apply: field('denoisingStrength') },
  // txt2img reads no initial noise multiplier (A1111 sets a field only img2img uses).
  'Initial noise multiplier': { apply: (cell, v) => (cell.params.initImages ? (cell.params.initialNoiseMultiplier = Number(v)) : undefined) },
  'Extra noise': { apply: override('img2img_extra_noise') },
  'Hires upscaler': {
    apply: (cell, v) => {
      const h = hires(cell);
      if (h) h.upscaler = String(v);
    },
    confirm: (vs, env) =>
      vs.map((v) => (hiresUpscalers(env).includes(String(v)) ? v : fail(`Unknown upscaler: ${String(v)} (valid: ${hiresUpscalers(env).join(', ')})`))),
    choices: (env) => hiresUpscalers(env),
  },
  'Cond. Image Mask Weight': { apply: override('inpainting_mask_weight') },
  // find_vae: auto/automatic, none, or a VAE file name (case-insensitive); unknown names are refused (A1111: Automatic).
  VAE: {
    apply: override('sd_vae'),
    confirm: (vs, env) =>
      vs.map((v) => {
        const name = String(v).toLowerCase();
        if (name === 'auto' || name === 'automatic') return 'Automatic';
        if (name === 'none') return 'None';
        const found = env.vaeNames.find((n) => n.toLowerCase() === name);
        if (!found) throw new Error(`Unknown VAE: ${String(v)} (valid: Automatic, None${env.vaeNames.map((n) => `, ${n}`).join('')})`);
        return found;
      }),
    choices: (env) => ['Automatic', 'None', ...env.vaeNames],
  },
  Styles: {
    apply: (cell, v) =>
      (cell.params.styles = [
        ...cell.params.styles,
        ...String(v)
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      ]),
    confirm: (vs, env) => {
      for (const v of vs) {
        for (const name of String(v)
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')) {
          if (!env.styleNames.includes(name)) throw new Error(`Unknown style: ${name} (valid: ${env.styleNames.join(', ') || 'none in styles.csv'})`);
        }
      }
      return vs;
    },
    choices: (env) => [...env.styleNames],
  },
  'UniPC Order': { apply: (cell, v) => setOption(cell, 'uni_pc_order', Math.min(Number(v), cell.params.steps - 1)) },
  'Face restore': { apply: noEffect, format: 'value', unsupported: UNSUPPORTED.faces },
  'Token merging ratio': { apply: noEffect, unsupported: UNSUPPORTED.tome },
  'Token merging ratio high-res': { apply: noEffect, unsupported: UNSUPPORTED.tome },
  'Always discard next-to-last sigma': { apply: boolOverride('always_discard_next_to_last_sigma'), choices: () => ['False', 'True'] },
  'SGM noise multiplier': { apply: boolOverride('sgm_noise_multiplier'), choices: () => ['False', 'True'] },
  'Refiner checkpoint': {
    format: 'remove_path',
    apply: (cell, v) => (cell.refiner = { ...cell.refiner, checkpoint: String(v) }),
    // A1111 confirm_checkpoints_or_none: 'None' or a name its fuzzy lookup finds (the lookup is redone at the switch).
    confirm: (vs, env) =>
      vs.map((v) => {
        if (v === null || isNoRefiner(String(v))) return 'None';
        const file = findCheckpointFuzzy(env.checkpoints, String(v));
        if (!file) throw new Error(`Unknown checkpoint: ${String(v)} (valid: None, ${env.checkpoints.map(checkpointTitle).join(', ')})`);
        if (file.error) throw new Error(`checkpoint ${file.name} cannot be loaded: ${file.error}`);
        return v;
      }),
    choices: (env) => ['None', ...env.checkpoints.map(checkpointTitle).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))],
  },
  'Refiner switch at': {
    apply: (cell, v) => (cell.refiner = { ...cell.refiner, switchAt: Number(v) }),
    confirm: (vs) => vs.map((v) => (Number(v) >= 0 && Number(v) <= 1 ? v : fail(`Refiner switch at must be from 0 to 1, got ${String(v)}`))),
  },
  'RNG source': {
    apply: override('randn_source'),
    confirm: (vs) => vs.map((v) => (['GPU', 'CPU', 'NV'].includes(String(v)) ? v : fail(`Unknown RNG source: ${String(v)} (valid: GPU, CPU, NV)`))),
    choices: () => ['GPU', 'CPU', 'NV'],
  },
  'FP8 mode': { apply: noEffect, unsupported: UNSUPPORTED.fp8 },
  Size: {
    apply: (cell, v) => {
      const [w, h] = parseSize(String(v));
      cell.params.width = w;
      cell.params.height = h;
    },
    confirm: (vs) => {
      for (const v of vs) parseSize(String(v));
      return vs;
    },
  },
};

function fail(message: string): never {
  throw new Error(message);
}

function hiresUpscalers(env: ScriptEnv): string[] {
  return [...env.latentModes, ...env.upscalers];
}

/** `512x768` → [512, 768] (multiples of 8, as the engine needs). */
function parseSize(text: string): [number, number] {
  const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`Size must be WIDTHxHEIGHT, got ${JSON.stringify(text)}`);
  const [w, h] = [Number(m[1]), Number(m[2])];
  if (w < 8 || h < 8 || w % 8 !== 0 || h % 8 !== 0) throw new Error(`Size ${text}: width and height must be multiples of 8, at least 8`);
  return [w, h];
}

/**
 * "Prompt order": the tokens are taken out of the prompt in the order they appear and put back in the cell's
 * order, the text between them staying where it was.
 */
function applyOrder(prompt: string, tokens: readonly string[]): string {
  const found = tokens.map((t) => ({ at: prompt.indexOf(t), t })).sort((a, b) => a.at - b.at);
  const parts: string[] = [];
  let rest = prompt;
  for (const { t } of found) {
    const n = rest.indexOf(t);
    parts.push(rest.slice(0, n));
    rest = rest.slice(n + t.length);
  }
  return parts.map((part, i) => part + tokens[i]).join('') + rest;
}

/** The legend text of a cell value (A1111's format_value / format_value_add_label / format_remove_path / …). */
export function axisLabel(axis: XyzAxisOption, value: unknown): string {
  const how = AXIS_BEHAVIOUR[axis.label]?.format;
  if (how === 'nothing') return '';
  if (how === 'remove_path') return String(value).split(/[/\\]/).pop() ?? String(value);
  const text = formatXyzValue(axis.type, value);
  return how === 'value' || how === 'join_list' ? text : `${axis.label}: ${text}`;
}
