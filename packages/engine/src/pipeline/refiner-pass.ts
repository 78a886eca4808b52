/**
 * The refiner of one job (refiner.ts has the switch rule): which sampling passes may switch (A1111 option
 * `hires_fix_refiner_pass`: with hires fix the refiner acts in the "second pass" by default, or the "first pass", or
 * "both passes"), the refiner's conditioning for a batch, and the infotext keys A1111's apply_refiner writes when it
 * switches (`Hires refiner` when not "second pass", `Refiner`, `Refiner switch at`).
 */
import { pyFloat } from './infotext.ts';
import type { LoadedModel } from './model.ts';
import { type RefinerConds, type RefinerSwitch, refinerModelFor } from './refiner.ts';
import { conditionBatch, type PreparedSampling } from './sample.ts';
import type { SdxlMicroConditioning } from './sdxl-conditioning.ts';
import type { GenerationOptions, Txt2ImgParams } from './types.ts';

const HIRES_REFINER_PASSES = ['first pass', 'second pass', 'both passes'] as const;

export interface RefinerJob {
  model: LoadedModel;
  title: string;
  switchAt: number | null;
  bySteps: boolean;
  /** Hires fix jobs only: option hires_fix_refiner_pass. */
  hiresPass: (typeof HIRES_REFINER_PASSES)[number] | null;
}

/** The job's refiner (opened or reused), or null without one or when it is the job's own checkpoint. */
export async function prepareRefiner(model: LoadedModel, params: Txt2ImgParams): Promise<RefinerJob | null> {
  const r = params.refiner;
  if (!r) return null;
  const refiner = await refinerModelFor(model, r.path);
  if (!refiner) return null;
  const o = params.options;
  const pass = o.hires_fix_refiner_pass ?? 'second pass';
  // A1111 compares the option with its strings; any other value acts as "both passes" there, and is refused here.
  if (params.hires && !HIRES_REFINER_PASSES.includes(pass as RefinerJob['hiresPass'] & string))
    throw new Error(`option hires_fix_refiner_pass must be one of ${HIRES_REFINER_PASSES.join(', ')}, got ${JSON.stringify(pass)}`);
  return {
    model: refiner,
    title: r.title,
    switchAt: r.switchAt,
    bySteps: Boolean(o.refiner_switch_by_sample_steps),
    hiresPass: params.hires ? (pass as RefinerJob['hiresPass']) : null,
  };
}

/** The conditioning inputs of the pass, as the base model got them. */
export interface PassText {
  prepared: PreparedSampling;
  prompts: readonly string[];
  negatives: readonly string[];
  options: GenerationOptions;
  steps: number;
  micro: SdxlMicroConditioning;
}

/**
 * The switch for one sampling pass of one batch (`pass`: 'first'/'second' of a hires job, 'only' otherwise), or
 * null when this pass may not switch. `onSwitch` receives the infotext keys and the refiner side's warnings.
 */
export function refinerSwitch(
  job: RefinerJob | null,
  pass: 'only' | 'first' | 'second',
  text: PassText,
  onSwitch: (extra: Record<string, unknown>, warnings: readonly string[]) => void,
): RefinerSwitch | null {
  if (!job) return null;
  if (pass === 'first' && job.hiresPass === 'second pass') return null;
  if (pass === 'second' && job.hiresPass === 'first pass') return null;
  return {
    model: job.model,
    switchAt: job.switchAt,
    bySteps: job.bySteps,
    conditions: async (): Promise<RefinerConds> => {
      const { cond, uncond, warnings } = await conditionBatch(job.model, text.prepared, text.prompts, text.negatives, text.options, text.steps, text.micro);
      return { cond, uncond, warnings };
    },
    onSwitch: (conds) => {
      const extra: Record<string, unknown> = {};
      if (job.hiresPass && job.hiresPass !== 'second pass') extra['Hires refiner'] = job.hiresPass;
      if (job.bySteps) extra['Refiner switch by sampling steps'] = true;
      extra.Refiner = job.title;
      extra['Refiner switch at'] = job.switchAt === null ? null : pyFloat(job.switchAt);
      onSwitch(extra, conds.warnings);
    },
  };
}
