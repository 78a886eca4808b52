/**
 * txt2img's hires-fix fields (spec §3.1.3) → the engine's HiresFixParams, checked before any work: A1111 crashes
 * with a 500 on `enable_hr` without `denoising_strength` (TypeError) and on an unknown upscaler; here both are
 * 422s that name the field and the valid choices. A1111's "Use same …" placeholders (what a pasted infotext
 * carries, §3.1.4) mean "same as the first pass" instead of failing later. `hr_checkpoint_name` (the second pass on
 * another checkpoint, services/hires-checkpoint.ts) is looked up inside the queue; an unknown one is a 422 there.
 */
import { HIRES_UPSCALERS, type HiresFixParams, type Txt2ImgParams } from '@sdapi/engine';
import type { Txt2ImgRequest } from '@sdapi/protocol';
import { type Catalog, resolveSampler } from './catalog.ts';
import { ApiError } from './errors.ts';

export interface HiresMapping {
  hires: HiresFixParams | null;
  /** txt2img's denoising_strength (null unless sent, as A1111's default). */
  denoisingStrength: number | null;
  /** Legacy `firstphase_width/height`: the first pass runs at this size and width × height is the target. */
  firstPass?: { width: number; height: number };
}

const same = (v: string | null | undefined, placeholder: string) => v === null || v === undefined || v === '' || v === placeholder;

const invalid = (message: string) => new ApiError('INVALID_PARAMS', message);

/** The hires part of a validated txt2img request. */
export function toHires(body: Txt2ImgRequest, catalog: Catalog): HiresMapping {
  const denoisingStrength = body.denoising_strength ?? null;
  if (!body.enable_hr) return { hires: null, denoisingStrength };
  if (denoisingStrength === null) {
    throw invalid("enable_hr needs denoising_strength: how much the second pass may change the upscaled image, from 0 to 1 (A1111's UI uses 0.7)");
  }
  if (denoisingStrength < 0 || denoisingStrength > 1) throw invalid(`denoising_strength must be from 0 to 1, got ${denoisingStrength}`);
  const upscaler = body.hr_upscaler ?? null;
  const valid = [...HIRES_UPSCALERS, ...(catalog.modelUpscalers?.() ?? [])];
  if (upscaler !== null && !valid.includes(upscaler)) {
    throw invalid(`hr_upscaler: could not find upscaler named ${JSON.stringify(upscaler)}; valid choices: ${valid.join(', ')}`);
  }
  // Checked now (422 naming the valid choices); a scheduler suffix ("DPM++ 2M Karras") counts when hr_scheduler is empty.
  const sampler = same(body.hr_sampler_name, 'Use same sampler') ? null : resolveSampler(catalog, body.hr_sampler_name, null);
  const suffixScheduler = sampler && sampler.scheduler !== 'Automatic' ? sampler.scheduler : null;
  const hires: HiresFixParams = {
    scale: positive(body.hr_scale, 'hr_scale'),
    resizeX: nonNegative(body.hr_resize_x, 'hr_resize_x'),
    resizeY: nonNegative(body.hr_resize_y, 'hr_resize_y'),
    upscaler,
    secondPassSteps: nonNegative(body.hr_second_pass_steps, 'hr_second_pass_steps'),
    samplerName: sampler?.sampler ?? null,
    scheduler: same(body.hr_scheduler, 'Use same scheduler') ? suffixScheduler : (body.hr_scheduler as string),
    prompt: body.hr_prompt ?? '',
    negativePrompt: body.hr_negative_prompt ?? '',
  };
  const fw = body.firstphase_width ?? 0;
  const fh = body.firstphase_height ?? 0;
  if (fw === 0 && fh === 0) return { hires, denoisingStrength };
  // Legacy API (pre-1.0 clients): width × height is the final size and firstphase_* the first pass.
  return {
    hires: { ...hires, resizeX: body.width ?? 512, resizeY: body.height ?? 512 },
    denoisingStrength,
    firstPass: { width: positive(fw, 'firstphase_width'), height: positive(fh, 'firstphase_height') },
  };
}

/** The engine fields of the hires mapping, to spread last into Txt2ImgParams (a legacy first pass sets the size). */
export function hiresJobFields(
  body: Txt2ImgRequest,
  catalog: Catalog,
): Pick<Txt2ImgParams, 'hires' | 'denoisingStrength'> & Partial<Pick<Txt2ImgParams, 'width' | 'height'>> {
  const { hires, denoisingStrength, firstPass } = toHires(body, catalog);
  return { hires, denoisingStrength, ...firstPass };
}

/** `hr_checkpoint_name` when it names another checkpoint (hires fix on, not "Use same checkpoint"/''/null), else null. */
export function hrCheckpointName(body: Pick<Txt2ImgRequest, 'enable_hr' | 'hr_checkpoint_name'>): string | null {
  return body.enable_hr && !same(body.hr_checkpoint_name, 'Use same checkpoint') ? (body.hr_checkpoint_name as string) : null;
}

function positive(v: number | null | undefined, field: string): number {
  if (typeof v !== 'number' || !(v > 0)) throw invalid(`${field} must be a number > 0, got ${JSON.stringify(v ?? null)}`);
  return v;
}

function nonNegative(v: number | null | undefined, field: string): number {
  if (typeof v !== 'number' || v < 0) throw invalid(`${field} must be ≥ 0, got ${JSON.stringify(v ?? null)}`);
  return v;
}
