/**
 * sd-webui-controlnet v1.1.455 on our API (spec controlnet-api.md): units from `alwayson_scripts.controlnet`
 * (key matched case-insensitively, as A1111 does) and from our typed top-level `controlnet` field, validated with
 * the extension's defaults and checks, and resolved to engine units (images decoded, models found in the
 * ControlNet folders). Unlike the extension, which logs a bad unit and silently generates without ControlNet, a
 * unit that cannot be honoured is a 422 whose `loc` names the unit and the field. No HTTP here.
 */
import { join } from 'node:path';
import {
  ControlNetCatalog,
  type ControlNetUnitParams,
  detectMap,
  findPreprocessor,
  KNOWN_MODULES,
  PREPROCESSORS,
  type RgbaImage,
  type Slider,
  unavailableReason,
} from '@sdapi/engine';
import {
  CONTROLNET_CONTROL_MODES,
  CONTROLNET_HR_OPTIONS,
  CONTROLNET_RESIZE_MODES,
  type ControlNetDetectRequest,
  ControlNetUnit,
  coerce,
  type ScriptInfo,
  type ValidationIssue,
} from '@sdapi/protocol';
import { ApiError, RequestValidationError } from './errors.ts';
import { decodeRequestImage } from './image-input.ts';

type Loc = (string | number)[];
/** A unit after coercion: every field with a default is filled in. */
type Unit = Required<ControlNetUnit>;

/** Unit errors: a FastAPI-style 422 entry at `loc`. */
const unitError = (loc: Loc, msg: string, type = 'value_error.controlnet') => new RequestValidationError([{ loc, msg, type } as ValidationIssue]);

/** §2: resize-mode labels and aliases; ≤1.1.44x numbers (0 Just Resize, 1 Crop and Resize, 2 Resize and Fill, 3+ Just Resize). */
const RESIZE_ALIASES: Record<string, ControlNetUnitParams['resizeMode']> = {
  'Inner Fit (Scale to Fit)': 'Crop and Resize',
  'Scale to Fit (Inner Fit)': 'Crop and Resize',
  'Outer Fit (Shrink to Fit)': 'Resize and Fill',
  'Envelope (Outer Fit)': 'Resize and Fill',
};

function resizeMode(v: unknown, loc: Loc): ControlNetUnitParams['resizeMode'] {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v === 1 ? 'Crop and Resize' : v === 2 ? 'Resize and Fill' : 'Just Resize';
  if (typeof v === 'string' && (CONTROLNET_RESIZE_MODES as readonly string[]).includes(v)) return v as ControlNetUnitParams['resizeMode'];
  if (typeof v === 'string' && RESIZE_ALIASES[v]) return RESIZE_ALIASES[v];
  throw unitError(loc, `resize_mode ${JSON.stringify(v)} is not one of ${CONTROLNET_RESIZE_MODES.join(', ')} (or 0, 1, 2)`);
}

function controlMode(v: unknown, loc: Loc): ControlNetUnitParams['controlMode'] {
  if (typeof v === 'number' && CONTROLNET_CONTROL_MODES[v]) return CONTROLNET_CONTROL_MODES[v];
  if (typeof v === 'string' && (CONTROLNET_CONTROL_MODES as readonly string[]).includes(v)) return v as ControlNetUnitParams['controlMode'];
  throw unitError(loc, `control_mode ${JSON.stringify(v)} is not one of ${CONTROLNET_CONTROL_MODES.join(', ')} (or 0, 1, 2)`);
}

export interface RawUnit {
  /** Where the unit came from, for error locations (`['body', 'alwayson_scripts', 'controlnet', 'args', 0]`). */
  loc: Loc;
  unit: Unit;
}

/** The enabled unit objects of a request, coerced with the extension's defaults (§1.1, §2). */
export function enabledUnits(body: { alwayson_scripts?: Record<string, unknown> | null; controlnet?: unknown[] | null }, unitCount: number): RawUnit[] {
  const found: RawUnit[] = [];
  const scripts = body.alwayson_scripts ?? {};
  const key = Object.keys(scripts).find((k) => k.toLowerCase() === 'controlnet');
  const sources: [Loc, unknown][] = [];
  if (key) sources.push([['body', 'alwayson_scripts', key, 'args'], (scripts[key] as { args?: unknown } | null)?.args ?? []]);
  if (body.controlnet) sources.push([['body', 'controlnet'], body.controlnet]);
  for (const [loc, args] of sources) {
    if (!Array.isArray(args)) throw unitError(loc, 'args must be a list of ControlNet unit objects');
    args.forEach((arg, i) => {
      if (arg === null) return; // an empty slot
      if (typeof arg !== 'object' || Array.isArray(arg)) {
        throw unitError(
          [...loc, i],
          `ControlNet v1.1.455 takes unit objects ({"enabled": true, "module": …}); the positional form of early 2023 is not understood (the extension would ignore it), got ${JSON.stringify(arg)}`,
        );
      }
      const coerced = coerce<Unit>(ControlNetUnit, arg, [...loc, i]);
      if (!coerced.ok) throw new RequestValidationError(coerced.errors);
      if (coerced.value.enabled) found.push({ loc: [...loc, i], unit: coerced.value });
    });
  }
  if (found.length > unitCount) {
    throw unitError(
      found[unitCount].loc,
      `${found.length} enabled ControlNet units but control_net_unit_count is ${unitCount} (the extension would silently drop the rest); raise the option or send fewer units`,
    );
  }
  return found;
}

/** The deprecated alias `from` of field `to`: giving both fails (§2). */
function alias(
  u: Unit,
  loc: Loc,
  from: 'input_image' | 'lowvram' | 'guidance' | 'mask_image',
  to: 'image' | 'low_vram' | 'guidance_end' | 'mask',
  unset: unknown,
): unknown {
  const a = u[from];
  if (a === undefined || a === null) return u[to];
  if (u[to] !== unset && u[to] !== null) throw unitError([...loc, from], `both ${from} and ${to} are given; send only ${to}`);
  return a;
}

/** Checks the fields the extension validates, and refuses the ones this server cannot honour (§2). */
function checkFields(u: Unit, loc: Loc): void {
  const range = (field: 'weight' | 'guidance_start' | 'guidance_end', v: number, lo: number, hi: number) => {
    if (!(v >= lo && v <= hi)) throw unitError([...loc, field], `${field} must be within [${lo}, ${hi}], got ${v}`);
  };
  range('weight', u.weight, 0, 2);
  range('guidance_start', u.guidance_start, 0, 1);
  if (!(CONTROLNET_HR_OPTIONS as readonly string[]).includes(u.hr_option))
    throw unitError([...loc, 'hr_option'], `hr_option ${JSON.stringify(u.hr_option)} is not one of ${CONTROLNET_HR_OPTIONS.join(', ')}`);
  const unsupported: [keyof Unit, boolean][] = [
    ['union_control_type', u.union_control_type !== 'Unknown'],
    ['ipadapter_input', u.ipadapter_input !== null && u.ipadapter_input !== undefined],
  ];
  for (const [field, given] of unsupported)
    if (given) throw unitError([...loc, field], `${field} is not supported by this server (ControlNet-Union / IP-Adapter are not implemented)`);
}

export class ControlNetService {
  readonly catalog: ControlNetCatalog;

  /**
   * `dirs`: `<data-dir>/models/ControlNet`, then `--controlnet-dir`. `maxImagePixels`: the server's
   * `--max-image-pixels`, applied to every unit image (a larger one is the 413 of image-input.ts).
   */
  constructor(
    readonly dirs: readonly string[],
    readonly maxImagePixels: number,
  ) {
    this.catalog = new ControlNetCatalog(dirs);
  }

  static dirsFor(dataDir: string | undefined, controlnetDir: string | null | undefined): string[] {
    return [...(dataDir ? [join(dataDir, 'models', 'ControlNet')] : []), ...(controlnetDir ? [controlnetDir] : [])];
  }

  /**
   * The request's enabled units as engine units. `hasInitImage`: img2img, where a unit without image uses the
   * first init image (§3).
   * @throws RequestValidationError (422) naming the unit and field.
   */
  async units(
    body: { alwayson_scripts?: Record<string, unknown> | null; controlnet?: unknown[] | null },
    options: Record<string, unknown>,
    hasInitImage = false,
  ): Promise<ControlNetUnitParams[]> {
    const count = typeof options.control_net_unit_count === 'number' ? options.control_net_unit_count : 3;
    const raw = enabledUnits(body, count);
    if (raw.length === 0) return [];
    this.catalog.rescan();
    const out: ControlNetUnitParams[] = [];
    for (const { loc, unit } of raw) out.push(await this.resolve(unit, loc, options, hasInitImage));
    return out;
  }

  private async resolve(u: Unit, loc: Loc, options: Record<string, unknown>, hasInitImage: boolean): Promise<ControlNetUnitParams> {
    checkFields(u, loc);
    const guidanceEnd = Number(alias(u, loc, 'guidance', 'guidance_end', 1));
    if (!(guidanceEnd >= 0 && guidanceEnd <= 1)) throw unitError([...loc, 'guidance_end'], `guidance_end must be within [0, 1], got ${guidanceEnd}`);
    if (u.guidance_start > guidanceEnd) throw unitError([...loc, 'guidance_start'], `guidance_start(${u.guidance_start}) > guidance_end(${guidanceEnd})`);
    const p = findPreprocessor(u.module);
    if (!p) {
      const msg = unavailableReason(u.module) ?? `module(${u.module}) not found in supported modules.`;
      throw unitError([...loc, 'module'], `${msg}. Available: ${PREPROCESSORS.map((x) => x.name).join(', ')}`);
    }
    if (u.model === 'None' || !u.model) throw unitError([...loc, 'model'], 'You have not selected any ControlNet Model.');
    const entry = this.catalog.find(u.model);
    if (!entry)
      throw unitError(
        [...loc, 'model'],
        `model not found: ${u.model}; available: ${
          this.catalog
            .list()
            .map((e) => e.name)
            .join(', ') || 'none (put ControlNet files into models/ControlNet)'
        }`,
      );
    const { image, mask } = await this.images(u, loc, options, hasInitImage);
    return {
      modelPath: entry.filename,
      modelName: entry.name,
      module: p.name,
      image,
      mask,
      weight: u.weight,
      resizeMode: resizeMode(u.resize_mode, [...loc, 'resize_mode']),
      processorRes: u.processor_res,
      thresholdA: u.threshold_a,
      thresholdB: u.threshold_b,
      guidanceStart: u.guidance_start,
      guidanceEnd,
      pixelPerfect: u.pixel_perfect,
      controlMode: controlMode(u.control_mode, [...loc, 'control_mode']),
      hrOption: u.hr_option as ControlNetUnitParams['hrOption'],
      saveDetectedMap: u.save_detected_map,
      inpaintCropInputImage: u.inpaint_crop_input_image,
      effectiveRegionMask: u.effective_region_mask ? await this.decode(u.effective_region_mask, [...loc, 'effective_region_mask'], options) : null,
      advancedWeighting: u.advanced_weighting ?? null,
    };
  }

  /** §3: the unit's image (string, `{image, mask}`, `[image, mask]`) and mask, decoded. */
  private async images(
    u: Unit,
    loc: Loc,
    options: Record<string, unknown>,
    hasInitImage: boolean,
  ): Promise<{ image: RgbaImage | null; mask: RgbaImage | null }> {
    let image = alias(u, loc, 'input_image', 'image', null);
    let mask = alias(u, loc, 'mask_image', 'mask', null);
    if (Array.isArray(image)) {
      if (image.length !== 1 && !(image.length === 2 && typeof image[0] === 'string'))
        throw unitError([...loc, 'image'], `only IP-Adapter units take several input images (got ${image.length})`);
      [image, mask] = image.length === 2 ? image : [image[0], mask];
    }
    if (image && typeof image === 'object' && !Array.isArray(image))
      [image, mask] = [(image as { image?: unknown }).image, (image as { mask?: unknown }).mask ?? mask];
    if (image === null || image === undefined) {
      if (hasInitImage) return { image: null, mask: null };
      throw unitError([...loc, 'image'], 'controlnet is enabled but no input image is given');
    }
    return { image: await this.decode(image, [...loc, 'image'], options), mask: mask ? await this.decode(mask, [...loc, 'mask'], options) : null };
  }

  private async decode(value: unknown, loc: Loc, options: Record<string, unknown>): Promise<RgbaImage> {
    if (typeof value !== 'string' || value === '')
      throw unitError(loc, `expected a base64 image, a data URL or an http(s) URL, got ${JSON.stringify(value)?.slice(0, 40)}`);
    try {
      const { width, height, rgba } = await decodeRequestImage(value, options, { maxPixels: this.maxImagePixels, field: loc.join('.') });
      return { width, height, rgba };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'PAYLOAD_TOO_LARGE') throw error; // a 413, not a unit's 422
      if (error instanceof ApiError) throw unitError(loc, `${error.message} (${String(error.cause ?? '').slice(0, 120)})`.replace(' ()', ''));
      throw error;
    }
  }
}

/** `GET /controlnet/module_list` (§8): names or labels in the extension's order, with visible sliders. */
export function moduleList(aliasNames: boolean): { module_list: string[]; module_detail: Record<string, { model_free: boolean; sliders: Slider[] }> } {
  const module_detail: Record<string, { model_free: boolean; sliders: Slider[] }> = {};
  for (const p of PREPROCESSORS)
    module_detail[aliasNames ? p.label : p.name] = { model_free: false, sliders: p.sliders.filter((s): s is Slider => s !== null) };
  return { module_list: PREPROCESSORS.map((p) => (aliasNames ? p.label : p.name)), module_detail };
}

const DETECT_REFUSED = new Set(['clip_vision', 'revision_clipvision', 'revision_ignore_prompt', 'ip-adapter-auto']);

/** `POST /controlnet/detect` (§8.1): each image through the module at its own output size. */
export async function detect(
  body: ControlNetDetectRequest,
  options: Record<string, unknown>,
  maxImagePixels: number,
): Promise<{ width: number; height: number; rgb: Uint8Array }[]> {
  const module = body.controlnet_module ?? 'none';
  if (DETECT_REFUSED.has(module)) throw new ApiError('INVALID_PARAMS', 'Module not supported');
  if (!findPreprocessor(module)) {
    throw new ApiError('INVALID_PARAMS', KNOWN_MODULES.includes(module) ? `Module not available (${unavailableReason(module)})` : 'Module not available');
  }
  const given = body.controlnet_input_images ?? [];
  const images = given.length > 0 ? given : (body.controlnet_images ?? []);
  if (images.length === 0) throw new ApiError('INVALID_PARAMS', 'No image selected');
  const out: { width: number; height: number; rgb: Uint8Array }[] = [];
  for (const [i, value] of images.entries()) {
    const field = `${given.length > 0 ? 'controlnet_input_images' : 'controlnet_images'}[${i}]`;
    const { width, height, rgba } = await decodeRequestImage(value, options, { maxPixels: maxImagePixels, field });
    const map = await detectMap(
      module,
      { width, height, rgba },
      body.controlnet_processor_res ?? -1,
      body.controlnet_threshold_a ?? -1,
      body.controlnet_threshold_b ?? -1,
    );
    out.push({ width: map.width, height: map.height, rgb: map.data });
  }
  return out;
}

/** A unit object with every default of the extension's model (enabled false), as its UI slots start. */
export function defaultUnit(): Unit {
  const coerced = coerce<Unit>(ControlNetUnit, {});
  if (!coerced.ok) throw new Error('the ControlNetUnit schema has a field without a default');
  return coerced.value;
}

/**
 * The extension as `/sdapi/v1/script-info` lists it (§1): the always-on script `controlnet`, one argument per unit
 * slot (`control_net_unit_count`), each defaulting to a disabled unit; txt2img entry first, then img2img.
 */
export function controlNetScriptInfo(unitCount: number): ScriptInfo[] {
  const args = Array.from({ length: unitCount }, (_, i) => ({
    label: `ControlNet Unit ${i}`,
    value: defaultUnit(),
    minimum: null,
    maximum: null,
    step: null,
    choices: null,
  }));
  return [false, true].map((is_img2img) => ({ name: 'controlnet', is_alwayson: true, is_img2img, args }));
}
