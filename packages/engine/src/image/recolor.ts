/**
 * The `recolor_luminance` / `recolor_intensity` ControlNet modules (controlnet-api.md §9.2): the map is the input's
 * lightness (OpenCV BGR2Lab applied to the RGB array, as the extension does: L of the channel-swapped colour) or HSV
 * value (max of the channels), `/255`, `^gamma`, `·255` → uint8, grey → RGB. After decoding, the extension replaces
 * that channel of the output (RGB→Lab L, or RGB→HSV V) by the fitted map's first channel and converts back; the
 * result goes on as a float image in [0, 1], so A1111's own `(255·x).astype(uint8)` truncation runs once more.
 */
import type { CV, Image8, Mat } from './opencv.ts';

export type RecolorKind = 'luminance' | 'intensity';

type CvColor = CV & {
  cvtColor(src: Mat, dst: Mat, code: number): void;
  COLOR_BGR2Lab: number;
  COLOR_RGB2Lab: number;
  COLOR_Lab2RGB: number;
  COLOR_BGR2HSV: number;
  COLOR_RGB2HSV: number;
  COLOR_HSV2RGB: number;
};

function convert(cv: CV, img: Image8, code: (c: CvColor) => number): Uint8Array {
  const c = cv as CvColor;
  const src = cv.matFromArray(img.height, img.width, cv.CV_8UC3, img.data);
  const dst = new cv.Mat();
  try {
    c.cvtColor(src, dst, code(c));
    return Uint8Array.from(dst.data);
  } finally {
    src.delete();
    dst.delete();
  }
}

/** The module's map: the L (Lab, from BGR2Lab on RGB data) or V (HSV) channel with gamma, as grey RGB. */
export function recolorMap(cv: CV, img: Image8, gamma: number, kind: RecolorKind): Image8 {
  const converted = convert(cv, img, (c) => (kind === 'luminance' ? c.COLOR_BGR2Lab : c.COLOR_BGR2HSV));
  const channel = kind === 'luminance' ? 0 : 2;
  const data = new Uint8Array(img.width * img.height * 3);
  for (let p = 0; p < img.width * img.height; p++) {
    const v = Math.fround(Math.fround(converted[3 * p + channel]) / 255);
    const g = Math.fround(Math.fround(v ** gamma) * 255);
    data.fill(Math.trunc(Math.min(255, Math.max(0, g))), 3 * p, 3 * p + 3);
  }
  return { width: img.width, height: img.height, channels: 3, data };
}

/**
 * The post-processing on one decoded output (8-bit RGB, as A1111's conversion made it): its L or V channel replaced
 * by `map`'s first channel; the output unchanged when the map's size differs (the extension skips it then).
 */
export function recolorOutput(cv: CV, rgb: Image8, map: Image8, kind: RecolorKind): Image8 {
  if (map.width !== rgb.width || map.height !== rgb.height) return rgb;
  const space = convert(cv, rgb, (c) => (kind === 'luminance' ? c.COLOR_RGB2Lab : c.COLOR_RGB2HSV));
  const channel = kind === 'luminance' ? 0 : 2;
  for (let p = 0; p < rgb.width * rgb.height; p++) space[3 * p + channel] = map.data[map.channels * p];
  const back = convert(cv, { ...rgb, data: space }, (c) => (kind === 'luminance' ? c.COLOR_Lab2RGB : c.COLOR_HSV2RGB));
  // /255 to float32, then A1111's 255·x (float32) truncated to uint8: a value can come back one lower.
  const data = back.map((v) => Math.trunc(Math.fround(Math.fround(v / 255) * 255)));
  return { width: rgb.width, height: rgb.height, channels: 3, data };
}
