/**
 * ControlNet units of a job → what the sampling hook needs (spec controlnet-api.md §3–§4, §7): each unit's
 * control image is preprocessed, fitted to the generation size into its "detected map", turned into a hint
 * tensor, and its model loaded; the infotext entries `ControlNet i` are written as the extension writes them.
 * Anything that cannot be honoured is an InvalidParamsError naming the unit and field (the extension logs and
 * silently drops ControlNet instead).
 */
import { InvalidParamsError } from '../errors.ts';
import { crop as cropPixels } from '../image/compose.ts';
import { type ControlResizeMode, compositeOverWhite, fitToSize, pixelPerfectResolution } from '../image/control-map.ts';
import { type Image8, loadOpenCV } from '../image/opencv.ts';
import { findPreprocessor, PREPROCESSORS, resolveSliders, runPreprocessor, unavailableReason } from '../image/preprocessors.ts';
import { type RecolorKind, recolorOutput } from '../image/recolor.ts';
import { numpyRandom } from '../image/shuffle.ts';
import { resizeImage } from '../image/resize.ts';
import { controlResidualCount } from '../models/unet-model.ts';
import { Tensor } from '../tensor.ts';
import { type ControlHook as ControlHookType, ControlHook, type ControlMode, type ControlPass, type ControlUnit } from './control.ts';
import { controlNetCacheOf } from './controlnet-model.ts';
import { formatPyFloat } from './infotext.ts';
import type { LoadedModel } from './model.ts';
import type { RgbaImage } from './types.ts';

/** One enabled unit (sd-webui-controlnet v1.1.455 unit fields, §2), with the model resolved to a file by the caller. */
export interface ControlNetUnitParams {
  /** Path of the ControlNet .safetensors file. */
  modelPath: string;
  /** Its display name `stem [hash8]`, written into the infotext. */
  modelName: string;
  /** Preprocessor name or label (§9). */
  module: string;
  /** The control image; null → img2img's first init image (§3). */
  image: RgbaImage | null;
  /** Optional mask (first channel used); a non-uniform mask replaces the image for non-inpaint modules (§3). */
  mask?: RgbaImage | null;
  weight: number;
  resizeMode: ControlResizeMode;
  processorRes: number;
  thresholdA: number;
  thresholdB: number;
  guidanceStart: number;
  guidanceEnd: number;
  pixelPerfect: boolean;
  controlMode: ControlMode;
  /** With hires fix: which pass the unit acts in. */
  hrOption?: 'Both' | 'Low res only' | 'High res only';
  /** Append the fitted map to the result images (default true). */
  saveDetectedMap?: boolean;
  /** img2img "only masked" inpainting: crop the control image like the init image (default true, §4.4). */
  inpaintCropInputImage?: boolean;
  advancedWeighting?: number[] | null;
  /** Its first channel / 255 multiplies the unit's residuals (resized bilinearly to each). */
  effectiveRegionMask?: RgbaImage | null;
}

/**
 * A unit with the extension's defaults for everything the caller leaves out: module "none", weight 1, Crop and
 * Resize, sliders unset (-1), guidance 0..1, no pixel perfect, Balanced.
 */
export function controlNetUnit(fields: Pick<ControlNetUnitParams, 'modelPath' | 'modelName' | 'image'> & Partial<ControlNetUnitParams>): ControlNetUnitParams {
  return {
    module: 'none',
    weight: 1,
    resizeMode: 'Crop and Resize',
    processorRes: -1,
    thresholdA: -1,
    thresholdB: -1,
    guidanceStart: 0,
    guidanceEnd: 1,
    pixelPerfect: false,
    controlMode: 'Balanced',
    ...fields,
  };
}

export interface PreparedControl {
  units: ControlUnit[];
  /** Fitted maps of the units with saveDetectedMap, in unit order (appended to the result images). */
  detectedMaps: Image8[];
  /** `ControlNet i` → value, for extra_generation_params. */
  infotext: Record<string, string>;
  /** recolor_* units: the output channel they replace after decoding, with their fitted maps (postProcessControl). */
  recolor?: { kind: RecolorKind; map: Image8; hrMap: Image8 | null }[];
  cv?: Awaited<ReturnType<typeof loadOpenCV>>;
}

/**
 * The extension's post-processing of a decoded image (8-bit RGB at the output size), unit by unit: recolor units put
 * their map into the output's Lab L / HSV V channel (the hires map after a hires pass).
 */
export function postProcessControl(prepared: PreparedControl | null, rgb: Uint8Array, width: number, height: number, hires = false): Uint8Array {
  if (!prepared?.recolor?.length || !prepared.cv) return rgb;
  let image: Image8 = { width, height, channels: 3, data: rgb };
  for (const r of prepared.recolor) image = recolorOutput(prepared.cv, image, (hires ? r.hrMap : null) ?? r.map, r.kind);
  return image.data;
}

const fail = (i: number, field: string, message: string) => new InvalidParamsError(`controlnet[${i}].${field}`, `ControlNet unit ${i}: ${message}`);

/** §3: the image a unit works on; a non-uniform mask replaces it (the extension's "canvas scribble" rule). */
function controlImage(unit: ControlNetUnitParams, i: number, initImage: RgbaImage | null): RgbaImage {
  const image = unit.image ?? initImage;
  if (!image) throw fail(i, 'image', 'controlnet is enabled but no input image is given');
  const mask = unit.mask;
  if (!mask) return image;
  if (mask.width !== image.width || mask.height !== image.height)
    throw fail(i, 'mask', `mask is ${mask.width}×${mask.height} but the image is ${image.width}×${image.height}`);
  let low = false;
  let high = false;
  for (let p = 0; p < mask.width * mask.height; p++) {
    high ||= mask.rgba[4 * p] > 5;
    low ||= mask.rgba[4 * p] < 250;
  }
  if (!(low && high)) return image;
  const rgba = new Uint8Array(mask.rgba.length);
  for (let p = 0; p < mask.width * mask.height; p++) rgba.fill(mask.rgba[4 * p], 4 * p, 4 * p + 3).fill(255, 4 * p + 3, 4 * p + 4);
  return { width: mask.width, height: mask.height, rgba };
}

/** The first channel of an RGBA image / 255. */
function regionPlane(img: RgbaImage): { width: number; height: number; data: Float32Array } {
  return { width: img.width, height: img.height, data: Float32Array.from({ length: img.width * img.height }, (_, p) => img.rgba[4 * p] / 255) };
}

/** Detected map [H, W, 3] uint8 → hint [1, 3, H, W] in [0, 1]. */
export function hintTensor(map: Image8): Tensor {
  const { width: w, height: h, channels: c } = map;
  const data = new Float32Array(c * h * w);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) data[k * h * w + p] = map.data[p * c + k] / 255;
  return new Tensor([1, c, h, w], data);
}

/** Python str() of a slider value as the extension stores it (ints stay ints, floats print like floats). */
const pyNumber = (v: number, isInt: boolean) => (isInt && Number.isInteger(v) ? String(v) : formatPyFloat(v));

function infotextValue(u: ControlNetUnitParams, module: string, [res, a, b]: [number, number, number]): string {
  return [
    `Module: ${module}`,
    `Model: ${u.modelName}`,
    `Weight: ${formatPyFloat(u.weight)}`,
    `Resize Mode: ${u.resizeMode}`,
    `Processor Res: ${pyNumber(res, true)}`,
    `Threshold A: ${pyNumber(a, false)}`,
    `Threshold B: ${pyNumber(b, false)}`,
    `Guidance Start: ${formatPyFloat(u.guidanceStart)}`,
    `Guidance End: ${formatPyFloat(u.guidanceEnd)}`,
    `Pixel Perfect: ${u.pixelPerfect ? 'True' : 'False'}`,
    `Control Mode: ${u.controlMode}`,
  ].join(', ');
}

/** img2img: a unit without an image takes the first init image, and A1111's img2img resize mode replaces its own (§3). */
export interface ControlInit {
  image: RgbaImage;
  /** A1111 img2img resize_mode: 0 / 3 just resize, 1 crop and resize, 2 resize and fill. */
  resizeMode: number;
  /** "Only masked" inpainting: the crop box [x1, y1, x2, y2] in mask coordinates and the mask size. */
  crop?: { box: [number, number, number, number]; maskWidth: number; maskHeight: number } | null;
}

const MODE_NUMBER: Record<ControlResizeMode, 0 | 1 | 2> = { 'Just Resize': 0, 'Crop and Resize': 1, 'Resize and Fill': 2 };

/**
 * §4.4: the control image resized to the mask size with the unit's mode (A1111's resize_image), cropped to the
 * inpaint region, and resized back to the job size with Resize and Fill, so it lines up with the cropped init.
 * Alpha is composited over white first, which the extension does before any of this (§3).
 */
async function cropLikeInit(
  image: RgbaImage,
  mode: ControlResizeMode,
  crop: NonNullable<ControlInit['crop']>,
  width: number,
  height: number,
): Promise<RgbaImage> {
  const rgb = compositeOverWhite(image.rgba, image.width, image.height);
  const fitted = await resizeImage(MODE_NUMBER[mode], { width: rgb.width, height: rgb.height, channels: 3, data: rgb.data }, crop.maskWidth, crop.maskHeight);
  const back = await resizeImage(2, cropPixels(fitted, crop.box), width, height);
  const rgba = new Uint8Array(width * height * 4).fill(255);
  for (let p = 0; p < width * height; p++) rgba.set(back.data.subarray(3 * p, 3 * p + 3), 4 * p);
  return { width, height, rgba };
}

const A1111_RESIZE: Record<number, ControlResizeMode> = { 0: 'Just Resize', 1: 'Crop and Resize', 2: 'Resize and Fill', 3: 'Just Resize' };

/**
 * Prepares every unit for a job of `width × height` (the first-pass size). Returns null without units. With hires fix
 * (`hiresSize`: the second pass's size) each unit also gets a hint fitted to that size from the same preprocessed map
 * (§4.1), and its detected maps are the hires one then the first-pass one (§7).
 * @throws InvalidParamsError naming `controlnet[i].<field>` for a unit that cannot be honoured.
 */
export async function prepareControl(
  model: LoadedModel,
  units: readonly ControlNetUnitParams[] | undefined,
  size: { width: number; height: number },
  init: ControlInit | null = null,
  hiresSize: { width: number; height: number } | null = null,
  numpySeed: number | null = null,
): Promise<PreparedControl | null> {
  if (!units || units.length === 0) return null;
  const cv = await loadOpenCV();
  // The extension seeds numpy once per request (shuffle's noise); the units draw from it in order.
  const random = numpyRandom(numpySeed ?? Math.floor(Math.random() * 2 ** 32));
  const h = Math.floor(size.height / 8) * 8;
  const w = Math.floor(size.width / 8) * 8;
  const prepared: PreparedControl = { units: [], detectedMaps: [], infotext: {}, cv };
  for (const [i, unit] of units.entries()) {
    const p = findPreprocessor(unit.module);
    if (!p) {
      const why = unavailableReason(unit.module) ?? `module '${unit.module}' is not a known module`;
      throw fail(i, 'module', `${why}; available here: ${PREPROCESSORS.map((x) => x.name).join(', ')}`);
    }
    const sliders = resolveSliders(p, unit.processorRes, unit.thresholdA, unit.thresholdB);
    prepared.infotext[`ControlNet ${i}`] = infotextValue(unit, p.name, sliders);
    let image = controlImage(unit, i, init?.image ?? null);
    const resizeMode = unit.image === null && init ? (A1111_RESIZE[init.resizeMode] ?? 'Just Resize') : unit.resizeMode;
    if (init?.crop && unit.inpaintCropInputImage !== false) image = await cropLikeInit(image, resizeMode, init.crop, w, h);
    const res = unit.pixelPerfect ? pixelPerfectResolution(image.height, image.width, h, w, resizeMode) : sliders[0];
    const detected = runPreprocessor(cv, p, image, res, sliders[1], sliders[2], random);
    const map = fitToSize(cv, detected, w, h, resizeMode);
    const hrMap = hiresSize ? fitToSize(cv, detected, Math.floor(hiresSize.width / 8) * 8, Math.floor(hiresSize.height / 8) * 8, resizeMode) : null;
    const controlNet = loadControlNet(model, unit, i);
    prepared.units.push({
      model: controlNet,
      hint: hintTensor(map),
      weight: unit.weight,
      guidanceStart: unit.guidanceStart,
      guidanceEnd: unit.guidanceEnd,
      controlMode: unit.controlMode,
      advancedWeighting: unit.advancedWeighting ?? null,
      regionMask: unit.effectiveRegionMask ? regionPlane(unit.effectiveRegionMask) : null,
      hrHint: hrMap ? hintTensor(hrMap) : null,
      hrOption: unit.hrOption ?? 'Both',
      softInHires: /canny|mlsd/.test(p.name),
    });
    if (unit.saveDetectedMap !== false) prepared.detectedMaps.push(...(hrMap ? [hrMap, map] : [map]));
    if (p.name.startsWith('recolor_')) (prepared.recolor ??= []).push({ kind: p.name === 'recolor_luminance' ? 'luminance' : 'intensity', map, hrMap });
  }
  return prepared;
}

/** Opens the unit's model and checks it fits the base model (context width, SDXL vector). */
function loadControlNet(model: LoadedModel, unit: ControlNetUnitParams, i: number) {
  let controlNet: ReturnType<ReturnType<typeof controlNetCacheOf>['get']>;
  try {
    controlNet = controlNetCacheOf(model).get(unit.modelPath);
  } catch (error) {
    throw fail(i, 'model', `cannot load ${unit.modelName}: ${(error as Error).message}`);
  }
  const base = model.config.unet;
  const c = controlNet.config.unet;
  const fits =
    c.context_dim === base.context_dim &&
    (c.adm_in_channels === null) === (base.adm_in_channels === null) &&
    controlNet.residualCount === controlResidualCount(base);
  if (!fits || c.model_channels !== base.model_channels) {
    throw fail(
      i,
      'model',
      `${unit.modelName} (context ${c.context_dim}, ${c.model_channels} channels${c.adm_in_channels ? ', SDXL' : ''}) does not fit the loaded ${model.config.family} model (context ${base.context_dim}, ${base.model_channels} channels)`,
    );
  }
  return controlNet;
}

/** A fresh hook for one sampling run (A1111 resets its step clock whenever sampling starts); `pass` with hires fix. */
export function controlHook(prepared: PreparedControl | null, samplingSteps: number, pass: ControlPass = 'only'): ControlHookType | undefined {
  return prepared ? new ControlHook(prepared.units, samplingSteps, pass) : undefined;
}
