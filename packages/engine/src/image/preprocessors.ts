/**
 * ControlNet preprocessors ("modules") that need no annotator weights, with sd-webui-controlnet v1.1.455's names,
 * labels, sliders and algorithms as specified in controlnet-api.md §9 (our own words; the cv2 calls run in
 * OpenCV/WASM). Every module returns a 3-channel uint8 map at its own size; fitting to the generation size is
 * control-map.ts's job. The extension's other 60-odd modules load downloaded networks; they are known by name
 * (KNOWN_MODULES) so a request naming one gets a precise refusal instead of "not found".
 */
import { atResolution, compositeOverWhite, replicate, roundHalfEven } from './control-map.ts';
import { type CV, canny, gaussianBlur, type Image8, type ImageF, loadOpenCV, resize } from './opencv.ts';
import { recolorMap } from './recolor.ts';
import { numpyRandom, shuffleModule } from './shuffle.ts';

export interface Slider {
  name: string;
  value: number;
  min: number;
  max: number;
  step: number;
}

export interface Preprocessor {
  name: string;
  label: string;
  /** [resolution, threshold_a, threshold_b]; null = hidden (range-checked against [0, 1], default 0.5). */
  sliders: [Slider | null, Slider | null, Slider | null];
  /** `random`: the request's numpy stream (numpy `random_sample`), for modules that draw noise (shuffle). */
  run(cv: CV, img: Image8, res: number, a: number, b: number, random: () => number): Image8;
}

const resolution = (): Slider => ({ name: 'Resolution', value: 512, min: 64, max: 2048, step: 8 });
/** recolor_*'s slider (a legacy slider without its own step: 0.01, §9.1). */
const gamma = (): Slider => ({ name: 'Gamma Correction', value: 1.0, min: 0.1, max: 2.0, step: 0.01 });

const pointwise = (img: Image8, fn: (rgb: [number, number, number]) => number): Image8 => {
  const data = new Uint8Array(img.width * img.height);
  for (let p = 0; p < data.length; p++) data[p] = fn([img.data[3 * p], img.data[3 * p + 1], img.data[3 * p + 2]]);
  return replicate({ width: img.width, height: img.height, channels: 1, data }, 3);
};

const toFloat = (img: Image8): ImageF => ({ ...img, data: Float32Array.from(img.data) });

/** min over channels of a − b, per pixel (float32). */
const minChannelDiff = (a: ImageF, b: ImageF): Float32Array => {
  const out = new Float32Array(a.width * a.height);
  for (let p = 0; p < out.length; p++) {
    let m = Number.POSITIVE_INFINITY;
    for (let k = 0; k < a.channels; k++) m = Math.min(m, Math.fround(a.data[p * a.channels + k] - b.data[p * a.channels + k]));
    out[p] = m;
  }
  return out;
};

/** numpy median of a float32 array (mean of the two middle values for even counts). */
const median = (values: Float32Array): number => {
  const sorted = Float32Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : Math.fround(Math.fround(sorted[mid - 1] + sorted[mid]) / 2);
};

function lineartStandard(cv: CV, padded: Image8): Image8 {
  const x = toFloat(padded);
  const i = minChannelDiff(gaussianBlur(cv, x, 6.0), x).map((v) => Math.min(255, Math.max(0, v)));
  const bright = i.filter((v) => v > 8);
  const scale = Math.max(16, bright.length > 0 ? median(bright) : 16);
  const data = Uint8Array.from(i, (v) => Math.trunc(Math.min(255, Math.max(0, Math.fround(Math.fround(v / scale) * 127)))));
  return replicate({ width: padded.width, height: padded.height, channels: 1, data }, 3);
}

function scribbleXdog(cv: CV, padded: Image8, thr: number): Image8 {
  const x = toFloat(padded);
  const dog = minChannelDiff(gaussianBlur(cv, x, 5.0), gaussianBlur(cv, x, 0.5));
  const data = Uint8Array.from(dog, (d) => {
    const v = Math.trunc(Math.min(255, Math.max(0, Math.fround(255 - d))));
    return 2 * (255 - v) > thr ? 255 : 0;
  });
  return replicate({ width: padded.width, height: padded.height, channels: 1, data }, 3);
}

/** t2ia_color_grid: short side → res (area), bicubic down to 1/64, nearest back up. */
function colorGrid(cv: CV, img: Image8, res: number): Image8 {
  const short = Math.min(img.width, img.height);
  const w = img.width <= img.height ? res : roundHalfEven((img.width / short) * res);
  const h = img.height < img.width ? res : roundHalfEven((img.height / short) * res);
  const scaled = resize(cv, img, w, h, 'area');
  const small = resize(cv, scaled, Math.floor(w / 64), Math.floor(h / 64), 'cubic');
  return resize(cv, small, w, h, 'nearest');
}

/** Weight-free modules, in the extension's module_list order (§9.1). */
export const PREPROCESSORS: readonly Preprocessor[] = [
  { name: 'none', label: 'none', sliders: [resolution(), null, null], run: (_cv, img) => img },
  {
    name: 'tile_resample',
    label: 'tile_resample',
    sliders: [resolution(), { name: 'Down Sampling Rate', value: 1, min: 1, max: 8, step: 0.01 }, null],
    run: (cv, img, _res, rate) => (rate < 1.1 ? img : resize(cv, img, Math.trunc(img.width / rate), Math.trunc(img.height / rate), 'area')),
  },
  // recolor_*: the map here; the output's L / V channel is replaced after decoding (control-units.ts postProcessControl).
  { name: 'recolor_luminance', label: 'recolor_luminance', sliders: [resolution(), gamma(), null], run: (cv, img, _res, g) => recolorMap(cv, img, g, 'luminance') },
  {
    name: 'lineart_standard',
    label: 'lineart_standard (from white bg & black line)',
    sliders: [resolution(), null, null],
    run: (cv, img, res) => atResolution(cv, img, res, (p) => lineartStandard(cv, p)),
  },
  {
    name: 'canny',
    label: 'canny',
    sliders: [
      resolution(),
      { name: 'Low Threshold', value: 100, min: 1, max: 255, step: 1 },
      { name: 'High Threshold', value: 200, min: 1, max: 255, step: 1 },
    ],
    run: (cv, img, res, low, high) => atResolution(cv, img, res, (p) => replicate(canny(cv, p, Math.trunc(low), Math.trunc(high)), 3)),
  },
  {
    name: 'invert',
    label: 'invert (from white bg & black line)',
    sliders: [null, null, null],
    run: (_cv, img) => ({ ...img, data: img.data.map((v) => 255 - v) }),
  },
  {
    name: 'threshold',
    label: 'threshold',
    sliders: [resolution(), { name: 'Binarization Threshold', value: 127, min: 0, max: 255, step: 1 }, null],
    run: (cv, img, res, thr) => atResolution(cv, img, res, (p) => pointwise(p, (rgb) => (Math.min(...rgb) > thr ? 255 : 0))),
  },
  { name: 'color', label: 't2ia_color_grid', sliders: [resolution(), null, null], run: (cv, img, res) => colorGrid(cv, img, res) },
  // Resolution fixed at 512 and hidden (not a "legacy" module, so no Resolution slider is reported).
  { name: 'shuffle', label: 'shuffle', sliders: [null, null, null], run: (cv, img, _res, _a, _b, random) => shuffleModule(cv, img, random) },
  {
    name: 'scribble_xdog',
    label: 'scribble_xdog',
    sliders: [resolution(), { name: 'XDoG Threshold', value: 32, min: 1, max: 64, step: 1 }, null],
    run: (cv, img, res, thr) => atResolution(cv, img, res, (p) => scribbleXdog(cv, p, thr)),
  },
  { name: 'recolor_intensity', label: 'recolor_intensity', sliders: [resolution(), gamma(), null], run: (cv, img, _res, g) => recolorMap(cv, img, g, 'intensity') },
  {
    name: 'blur_gaussian',
    label: 'blur_gaussian',
    sliders: [resolution(), { name: 'Sigma', value: 9.0, min: 0.01, max: 64, step: 0.01 }, null],
    run: (cv, img, res, sigma) => {
      const k = res / Math.min(img.height, img.width);
      const resized = resize(cv, img, roundHalfEven(img.width * k), roundHalfEven(img.height * k), k > 1 ? 'cubic' : 'area');
      return gaussianBlur(cv, resized, sigma);
    },
  },
];

/** Every module name of a complete v1.1.455 installation (§9.1); the ones above run here, the rest need weights. */
export const KNOWN_MODULES: readonly string[] = [
  'none',
  'ip-adapter-auto',
  'tile_resample',
  'pidinet',
  'oneformer_ade20k',
  'pidinet_scribble',
  'revision_clipvision',
  'reference_only',
  'recolor_luminance',
  'openpose_full',
  'normal_bae',
  'mlsd',
  'lineart_standard',
  'ip-adapter_clip_sd15',
  'inpaint_only',
  'depth',
  'canny',
  'invert',
  'tile_colorfix+sharp',
  'tile_colorfix',
  'threshold',
  'clip_vision',
  'pidinet_sketch',
  'color',
  'softedge_teed',
  'pidinet_safe',
  'hed_safe',
  'hed',
  'softedge_anyline',
  'shuffle',
  'segmentation',
  'oneformer_coco',
  'anime_face_segment',
  'scribble_xdog',
  'scribble_hed',
  'revision_ignore_prompt',
  'reference_adain+attn',
  'reference_adain',
  'recolor_intensity',
  'openpose_hand',
  'openpose_faceonly',
  'openpose_face',
  'openpose',
  'normal_map',
  'normal_dsine',
  'mobile_sam',
  'mediapipe_face',
  'lineart',
  'lineart_coarse',
  'lineart_anime_denoise',
  'lineart_anime',
  'ip-adapter_pulid',
  'ip-adapter_face_id_plus',
  'ip-adapter_face_id',
  'ip-adapter_clip_sdxl_plus_vith',
  'ip-adapter_clip_sdxl',
  'instant_id_face_keypoints',
  'instant_id_face_embedding',
  'inpaint_only+lama',
  'inpaint',
  'facexlib',
  'dw_openpose_full',
  'depth_zoe',
  'depth_leres++',
  'depth_leres',
  'depth_hand_refiner',
  'depth_anything_v2',
  'depth_anything',
  'densepose_parula',
  'densepose',
  'blur_gaussian',
  'animal_openpose',
];

/** Weight-free modules of §9.2 this server does not run yet, with what they would need. */
const NOT_IMPLEMENTED: Record<string, string> = {
  reference_only: "injects a reference pass's self-attention into the UNet, which is not implemented here",
  reference_adain: "injects a reference pass's group-norm statistics into the UNet, which is not implemented here",
  'reference_adain+attn': "injects a reference pass's attention and group-norm statistics into the UNet, which is not implemented here",
  tile_colorfix: "replaces the predicted latent's low frequencies in the sampling hook, which is not implemented here",
  'tile_colorfix+sharp': "replaces the predicted latent's low frequencies in the sampling hook, which is not implemented here",
  inpaint: 'makes an RGBA inpaint hint (mask in alpha) for inpaint ControlNets, which is not implemented here',
  inpaint_only: 'makes an RGBA inpaint hint and blends the result outside the mask, which is not implemented here',
};

/**
 * Why module `name` cannot run here, for a 422: a weight-free module not implemented yet (and what it does), one of
 * the extension's modules that loads annotator network weights, or null when it is not a module name at all.
 */
export function unavailableReason(name: string): string | null {
  if (NOT_IMPLEMENTED[name]) return `module '${name}' needs no weights but ${NOT_IMPLEMENTED[name]}`;
  if (KNOWN_MODULES.includes(name)) return `module '${name}' runs an annotator network whose weights the extension downloads; this server has no annotator weights`;
  return null;
}

/** A module by name or label (the extension accepts both). */
export function findPreprocessor(nameOrLabel: string): Preprocessor | undefined {
  return PREPROCESSORS.find((p) => p.name === nameOrLabel || p.label === nameOrLabel);
}

/** §2: a slider value outside the slider's range (including the default -1) becomes the slider's default. */
export function sliderValue(slider: Slider | null, value: number): number {
  const { min, max, value: fallback } = slider ?? { min: 0, max: 1, value: 0.5 };
  return value >= min && value <= max ? value : fallback;
}

/** Resolves processor_res / threshold_a / threshold_b for `p` as the extension does before running it. */
export function resolveSliders(p: Preprocessor, res: number, a: number, b: number): [number, number, number] {
  return [sliderValue(p.sliders[0], res), sliderValue(p.sliders[1], a), sliderValue(p.sliders[2], b)];
}

/**
 * Runs `p` on an RGBA image (composited over white first); returns its 3-channel map at the module's own size.
 * `random`: the request's numpy stream (shuffle draws from it); absent: a fresh randomly seeded one, as the
 * extension's unseeded numpy on /controlnet/detect.
 */
export function runPreprocessor(
  cv: CV,
  p: Preprocessor,
  rgba: { width: number; height: number; rgba: Uint8Array },
  res: number,
  a: number,
  b: number,
  random: () => number = numpyRandom(Math.floor(Math.random() * 2 ** 32)),
): Image8 {
  return p.run(cv, compositeOverWhite(rgba.rgba, rgba.width, rgba.height), res, a, b, random);
}

/**
 * `/controlnet/detect`: runs module `nameOrLabel` with defaulted, range-checked sliders and returns its map at
 * the module's own size (no fitting to a generation size).
 */
export async function detectMap(
  nameOrLabel: string,
  rgba: { width: number; height: number; rgba: Uint8Array },
  res: number,
  a: number,
  b: number,
): Promise<Image8> {
  const p = findPreprocessor(nameOrLabel);
  if (!p) throw new RangeError(`module '${nameOrLabel}' is not available`);
  const [r, ta, tb] = resolveSliders(p, res, a, b);
  return runPreprocessor(await loadOpenCV(), p, rgba, r, ta, tb);
}
