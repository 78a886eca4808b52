/**
 * The generate form's values, what they become on the wire (A1111's txt2img/img2img fields), and the way back:
 * a finished job's `result.parameters` or a PNG's parsed infotext (`/png-info` `parameters`) into the form.
 */
import type { ExtrasBatchImagesRequest, ExtrasSingleImageRequest, Img2ImgRequest, ScriptInfo, Txt2ImgRequest } from '@sdapi/client';

export interface FormState {
  prompt: string;
  negative_prompt: string;
  styles: string[];
  sampler_name: string;
  scheduler: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  seed: number;
  n_iter: number;
  batch_size: number;
  enable_hr: boolean;
  hr_scale: number;
  hr_upscaler: string;
  hr_denoising_strength: number;
  denoising_strength: number;
  resize_mode: number;
  mask_blur: number;
  inpainting_fill: number;
  inpaint_full_res: boolean;
}

export const DEFAULT_FORM: FormState = {
  prompt: '',
  negative_prompt: '',
  styles: [],
  sampler_name: 'Euler a',
  scheduler: 'Automatic',
  steps: 20,
  cfg_scale: 7,
  width: 512,
  height: 512,
  seed: -1,
  n_iter: 1,
  batch_size: 1,
  enable_hr: false,
  hr_scale: 2,
  hr_upscaler: 'Latent',
  hr_denoising_strength: 0.7,
  denoising_strength: 0.75,
  resize_mode: 0,
  mask_blur: 4,
  inpainting_fill: 1,
  inpaint_full_res: false,
};

/** Wire fields the form edits: a 422 naming one of them is shown next to its input. */
export const FORM_FIELDS = [
  'prompt',
  'negative_prompt',
  'styles',
  'sampler_name',
  'scheduler',
  'steps',
  'cfg_scale',
  'width',
  'height',
  'seed',
  'n_iter',
  'batch_size',
  'enable_hr',
  'hr_scale',
  'hr_upscaler',
  'denoising_strength',
  'resize_mode',
  'mask_blur',
  'inpainting_fill',
  'inpaint_full_res',
  'init_images',
  'mask',
  'sd_model_checkpoint',
] as const;

export const SIZE_PRESETS: [string, number, number][] = [
  ['512 × 512 (SD 1.x)', 512, 512],
  ['768 × 512', 768, 512],
  ['512 × 768', 512, 768],
  ['768 × 768 (SD 2.x)', 768, 768],
  ['1024 × 1024 (SDXL)', 1024, 1024],
  ['1216 × 832 (SDXL)', 1216, 832],
  ['832 × 1216 (SDXL)', 832, 1216],
];

export const RESIZE_MODES = ['Just resize', 'Crop and resize', 'Resize and fill', 'Just resize (latent upscale)'];
export const INPAINTING_FILLS = ['fill', 'original', 'latent noise', 'latent nothing'];

/** `set(key)(value)`: an input's handler that writes one field of a state object (every form component uses it). */
export const fieldSetter =
  <S extends object>(setState: (update: (s: S) => S) => void) =>
  <K extends keyof S>(key: K) =>
  (value: S[K]) =>
    setState((s) => ({ ...s, [key]: value }));

export function txt2imgParams(f: FormState): Txt2ImgRequest {
  const params: Txt2ImgRequest = {
    prompt: f.prompt,
    negative_prompt: f.negative_prompt,
    styles: f.styles,
    sampler_name: f.sampler_name,
    scheduler: f.scheduler,
    steps: f.steps,
    cfg_scale: f.cfg_scale,
    width: f.width,
    height: f.height,
    seed: f.seed,
    n_iter: f.n_iter,
    batch_size: f.batch_size,
  };
  if (f.enable_hr) Object.assign(params, { enable_hr: true, hr_scale: f.hr_scale, hr_upscaler: f.hr_upscaler, denoising_strength: f.hr_denoising_strength });
  return params;
}

export interface InitImage {
  dataUrl: string;
  width: number;
  height: number;
}

export function img2imgParams(f: FormState, init: InitImage, mask: string | null): Img2ImgRequest {
  const { enable_hr: _hr, hr_scale: _s, hr_upscaler: _u, ...base } = txt2imgParams({ ...f, enable_hr: false }) as Record<string, unknown>;
  const params = { ...base, init_images: [init.dataUrl], denoising_strength: f.denoising_strength, resize_mode: f.resize_mode } as Img2ImgRequest;
  if (mask) Object.assign(params, { mask, mask_blur: f.mask_blur, inpainting_fill: f.inpainting_fill, inpaint_full_res: f.inpaint_full_res });
  return params;
}

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A finished job's effective request (`result.parameters`) back into the form; `seed` is the image's own seed. */
export function formFromParameters(form: FormState, p: Record<string, unknown>, seed?: number): FormState {
  const next = { ...form };
  for (const key of ['prompt', 'negative_prompt', 'sampler_name', 'scheduler', 'hr_upscaler'] as const) next[key] = str(p[key]) ?? next[key];
  for (const key of [
    'steps',
    'cfg_scale',
    'width',
    'height',
    'seed',
    'n_iter',
    'batch_size',
    'hr_scale',
    'resize_mode',
    'mask_blur',
    'inpainting_fill',
  ] as const)
    next[key] = num(p[key]) ?? next[key];
  if (Array.isArray(p.styles)) next.styles = p.styles.filter((s): s is string => typeof s === 'string');
  if (typeof p.enable_hr === 'boolean') next.enable_hr = p.enable_hr;
  if (next.enable_hr) next.hr_denoising_strength = num(p.denoising_strength) ?? next.hr_denoising_strength;
  else next.denoising_strength = num(p.denoising_strength) ?? next.denoising_strength;
  if (seed !== undefined) next.seed = seed;
  return next;
}

/** `/png-info` `parameters` (A1111's parsed infotext: `Prompt`, `Steps`, `Size-1`, …) into the form. */
export function formFromInfotext(form: FormState, p: Record<string, unknown>): FormState {
  const next = { ...form };
  next.prompt = str(p.Prompt) ?? next.prompt;
  next.negative_prompt = str(p['Negative prompt']) ?? next.negative_prompt;
  next.steps = num(p.Steps) ?? next.steps;
  next.sampler_name = str(p.Sampler) ?? next.sampler_name;
  next.scheduler = str(p['Schedule type']) ?? next.scheduler;
  next.cfg_scale = num(p['CFG scale']) ?? next.cfg_scale;
  next.seed = num(p.Seed) ?? next.seed;
  next.width = num(p['Size-1']) ?? next.width;
  next.height = num(p['Size-2']) ?? next.height;
  const hires = num(p['Hires upscale']);
  if (hires !== undefined)
    Object.assign(next, {
      enable_hr: true,
      hr_scale: hires,
      hr_upscaler: str(p['Hires upscaler']) ?? next.hr_upscaler,
      hr_denoising_strength: num(p['Denoising strength']) ?? next.hr_denoising_strength,
    });
  else if (num(p['Denoising strength']) !== undefined) next.denoising_strength = num(p['Denoising strength']) as number;
  return next;
}

/** The Extras form (A1111's extras fields; the image is kept apart, as img2img's init image is). */
export interface ExtrasState {
  /** 0: scale by `upscaling_resize`; 1: scale to width × height. */
  resize_mode: 0 | 1;
  upscaling_resize: number;
  upscaling_resize_w: number;
  upscaling_resize_h: number;
  upscaling_crop: boolean;
  upscaler_1: string;
  upscaler_2: string;
  extras_upscaler_2_visibility: number;
}

export const DEFAULT_EXTRAS: ExtrasState = {
  resize_mode: 0,
  upscaling_resize: 2,
  upscaling_resize_w: 512,
  upscaling_resize_h: 512,
  upscaling_crop: true,
  upscaler_1: 'Lanczos',
  upscaler_2: 'None',
  extras_upscaler_2_visibility: 0,
};

/** Wire fields of the Extras form, for showing a 422 next to its input. */
export const EXTRAS_FIELDS = ['image', ...(Object.keys(DEFAULT_EXTRAS) as (keyof ExtrasState)[])] as const;

export function extrasParams(e: ExtrasState, image: InitImage): ExtrasSingleImageRequest {
  return { ...e, image: image.dataUrl };
}

/** Several images: one `extra-batch-images` job (`imageList` of `{data, name}`). */
export function extrasBatchParams(e: ExtrasState, images: readonly NamedImage[]): ExtrasBatchImagesRequest {
  return { ...e, imageList: images.map((image) => ({ data: image.dataUrl, name: image.name })) };
}

/** An image with the file name it came from (batch extras). */
export interface NamedImage extends InitImage {
  name: string;
}

/** One ControlNet unit of the form (its image is kept apart, as img2img's init image is). */
export interface ControlNetState {
  enabled: boolean;
  module: string;
  /** '' until chosen: the first model listed. */
  model: string;
  weight: number;
  guidance_start: number;
  guidance_end: number;
  control_mode: string;
}

export const DEFAULT_CONTROLNET: ControlNetState = {
  enabled: false,
  module: 'none',
  model: '',
  weight: 1,
  guidance_start: 0,
  guidance_end: 1,
  control_mode: 'Balanced',
};

export const CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'];

/** One ControlNet unit of the form with its control image (A1111 shows `control_net_unit_count` of them). */
export interface ControlNetSlot {
  unit: ControlNetState;
  image: InitImage | null;
}

/** `slots` grown with disabled units, or cut, to `count` (at least one). */
export function resizeSlots(slots: readonly ControlNetSlot[], count: number): ControlNetSlot[] {
  const n = Math.max(1, count);
  return Array.from({ length: n }, (_, i) => slots[i] ?? { unit: DEFAULT_CONTROLNET, image: null });
}

/**
 * The request's `alwayson_scripts` for the units: the enabled ones with an image and a model, in unit order (the
 * infotext numbers them from 0 in the order sent); nothing when there is none.
 */
export function controlNetScripts(slots: readonly ControlNetSlot[], models: readonly string[]): Record<string, unknown> | undefined {
  const args = slots.flatMap(({ unit, image }) => {
    const model = unit.model || models[0];
    if (!unit.enabled || !image || !model) return [];
    const { enabled, module, weight, guidance_start, guidance_end, control_mode } = unit;
    return [{ enabled, image: image.dataUrl, module, model, weight, guidance_start, guidance_end, control_mode }];
  });
  return args.length > 0 ? { controlnet: { args } } : undefined;
}

/** The X/Y/Z plot script of the txt2img form (A1111's axis labels and value syntax). */
export interface XyzState {
  xAxis: string;
  xValues: string;
  yAxis: string;
  yValues: string;
  zAxis: string;
  zValues: string;
  includeLone: boolean;
  /** A1111 "Include Sub Grids": with a Z axis, each Z value's grid after the combined one. */
  includeSubGrids: boolean;
}

export const DEFAULT_XYZ: XyzState = {
  xAxis: 'Seed',
  xValues: '',
  yAxis: 'Nothing',
  yValues: '',
  zAxis: 'Nothing',
  zValues: '',
  includeLone: false,
  includeSubGrids: false,
};

/** The request's typed `scripts` field for the plot (chosen in the Script menu); a Y or Z axis of Nothing is left out. */
export function xyzScripts(x: XyzState): Record<string, unknown> {
  const axis = (key: 'y' | 'z', label: string, values: string) => (label !== 'Nothing' ? { [key]: { axis: label, values } } : {});
  return {
    xyz_plot: {
      x: { axis: x.xAxis, values: x.xValues },
      ...axis('y', x.yAxis, x.yValues),
      ...axis('z', x.zAxis, x.zValues),
      include_lone_images: x.includeLone,
      include_sub_grids: x.includeSubGrids,
    },
  };
}

/** The X/Y/Z plot's script name (the page has its own form for it, `xyzScripts`). */
export const XYZ_SCRIPT = 'x/y/z plot';

/**
 * The scripts a tab offers in its Script menu, from `/sdapi/v1/script-info`: the selectable ones (not always-on),
 * with the X/Y/Z plot only on txt2img (its own form there; img2img's axis table differs).
 */
export function selectableScripts(infos: readonly ScriptInfo[], tab: 'txt2img' | 'img2img'): ScriptInfo[] {
  return infos.filter((s) => !s.is_alwayson && Boolean(s.is_img2img) === (tab === 'img2img') && s.name && (s.name !== XYZ_SCRIPT || tab === 'txt2img'));
}

/** A script's arguments as its form starts: the defaults script-info gives, in `script_args` order. */
export const defaultScriptArgs = (info: ScriptInfo): unknown[] => info.args.map((a) => a.value ?? null);

/**
 * The request fields of the chosen script: A1111's `script_name` and positional `script_args` (the X/Y/Z plot
 * goes as the typed `scripts.xyz_plot`, see xyzScripts); nothing for None.
 */
export function scriptParams(info: ScriptInfo | undefined, args: readonly unknown[] | undefined): Record<string, unknown> {
  if (!info?.name || info.name === XYZ_SCRIPT) return {};
  return { script_name: info.name, script_args: args ?? defaultScriptArgs(info) };
}
