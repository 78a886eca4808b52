/**
 * ControlNet units for `alwayson_scripts` (spec controlnet-api.md §2; defaults as webuiapi's ControlNetUnit,
 * mix1009/sdwebuiapi@ce232f0 webuiapi.py, MIT). Unit images are raw base64 (no data: prefix), as webuiapi sends.
 */
import { type ImageInput, imageToBase64 } from '../images.ts';

export type ControlMode = 'Balanced' | 'My prompt is more important' | 'ControlNet is more important';
export type ControlNetResizeMode = 'Just Resize' | 'Crop and Resize' | 'Resize and Fill';

/** One unit as sd-webui-controlnet v1.1.455 reads it. */
export interface ControlNetUnitArgs {
  enabled: boolean;
  image: string | null;
  mask: string | null;
  module: string;
  model: string;
  weight: number;
  resize_mode: ControlNetResizeMode | string;
  low_vram: boolean;
  processor_res: number;
  threshold_a: number;
  threshold_b: number;
  guidance_start: number;
  guidance_end: number;
  control_mode: ControlMode | string;
  pixel_perfect: boolean;
  hr_option: 'Both' | 'Low res only' | 'High res only';
  /** Append this unit's control map to the output images (extension default true). */
  save_detected_map?: boolean;
  inpaint_crop_input_image?: boolean;
  advanced_weighting?: number[] | null;
  effective_region_mask?: string | null;
  union_control_type?: string;
}

export interface ControlNetUnitInput extends Partial<Omit<ControlNetUnitArgs, 'image' | 'mask' | 'control_mode'>> {
  image?: ImageInput | null;
  mask?: ImageInput | null;
  /** A label, or webuiapi's 0/1/2 (Balanced / My prompt / ControlNet is more important). */
  control_mode?: ControlMode | 0 | 1 | 2;
}

const CONTROL_MODES: readonly ControlMode[] = ['Balanced', 'My prompt is more important', 'ControlNet is more important'];

/**
 * A unit with webuiapi's defaults (enabled, "none" module, "None" model, weight 1, "Resize and Fill",
 * processor_res 512, thresholds 64, guidance 0–1, "Balanced", "Both").
 * @example await sd.txt2img({ prompt: 'a house', alwayson_scripts: controlNet([await controlNetUnit({ image: png, module: 'canny', model: 'control_v11p_sd15_canny [d14c016b]' })]) });
 */
export async function controlNetUnit(input: ControlNetUnitInput = {}): Promise<ControlNetUnitArgs> {
  const { image, mask, control_mode = 'Balanced', ...rest } = input;
  const mode = typeof control_mode === 'number' ? CONTROL_MODES[control_mode] : control_mode;
  if (!mode) throw new RangeError(`controlNetUnit: control_mode must be 0, 1, 2 or one of ${CONTROL_MODES.join(', ')}; got ${JSON.stringify(control_mode)}`);
  const weight = rest.weight ?? 1;
  if (!(weight >= 0 && weight <= 2))
    throw new RangeError(`controlNetUnit: weight must be within 0..2 (the extension rejects the unit otherwise), got ${weight}`);
  return {
    // webuiapi sends "" for no image; the extension then fails to decode it and drops every unit (spec §3), so
    // null is sent instead: on img2img the unit then uses the init image.
    image: image === undefined || image === null ? null : await imageToBase64(image),
    mask: mask === undefined || mask === null ? null : await imageToBase64(mask),
    module: 'none',
    model: 'None',
    weight,
    resize_mode: 'Resize and Fill',
    low_vram: false,
    processor_res: 512,
    threshold_a: 64,
    threshold_b: 64,
    guidance_start: 0,
    guidance_end: 1,
    pixel_perfect: false,
    hr_option: 'Both',
    enabled: true,
    ...rest,
    control_mode: mode,
  };
}

/** `alwayson_scripts` entry for the units; `[]` keeps every unit disabled (webuiapi sends that when unused). */
export function controlNet(units: readonly ControlNetUnitArgs[]): { ControlNet: { args: ControlNetUnitArgs[] } } {
  return { ControlNet: { args: [...units] } };
}
