/**
 * OpenCV (4.5, compiled to WebAssembly by @techstark/opencv-js, Apache-2.0) for the cv2 calls the ControlNet
 * preprocessors make: the extension's numbers come from cv2.resize (INTER_AREA / INTER_CUBIC / INTER_NEAREST),
 * cv2.Canny, cv2.GaussianBlur, morphology and Otsu thresholds, so the genuine kernels are used rather than
 * look-alikes. Loaded lazily (≈0.3 s, once) because only ControlNet jobs need it. Images are `Image8`: 8-bit,
 * row-major HWC; float maps are `ImageF`.
 */
import { createRequire } from 'node:module';

export interface Image8 {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export interface ImageF {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** The slice of the opencv.js API used here (the package's own typings come through a third-party module). */
export interface Mat {
  readonly data: Uint8Array;
  readonly data32F: Float32Array;
  rows: number;
  cols: number;
  channels(): number;
  delete(): void;
}

type Size = unknown;

export interface CV {
  Mat: new () => Mat;
  Size: new (w: number, h: number) => Size;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): Mat;
  resize(src: Mat, dst: Mat, size: Size, fx: number, fy: number, interpolation: number): void;
  Canny(src: Mat, dst: Mat, low: number, high: number, aperture?: number, l2?: boolean): void;
  GaussianBlur(src: Mat, dst: Mat, ksize: Size, sigmaX: number, sigmaY?: number, border?: number): void;
  threshold(src: Mat, dst: Mat, thresh: number, maxval: number, type: number): number;
  CV_8UC1: number;
  CV_8UC3: number;
  CV_8UC4: number;
  CV_32FC1: number;
  CV_32FC3: number;
  INTER_NEAREST: number;
  INTER_LINEAR: number;
  INTER_CUBIC: number;
  INTER_AREA: number;
  THRESH_BINARY: number;
  THRESH_OTSU: number;
}

let loading: Promise<CV> | null = null;

/**
 * The OpenCV module, initialised once (the only loader of @techstark/opencv-js in the engine). Its runtime start is
 * polled rather than hooked through onRuntimeInitialized, so that no other loader of the module in this process
 * can steal the callback, and a runtime that never comes up is an error after 30 s rather than a hang.
 */
export function loadOpenCV(): Promise<CV> {
  loading ??= (async () => {
    const mod = createRequire(import.meta.url)('@techstark/opencv-js') as Partial<CV> & { then?: unknown };
    // matFromArray is plain JS and exists at once; Mat comes with the WebAssembly runtime.
    for (let waited = 0; typeof mod.Mat !== 'function'; waited += 10) {
      if (waited > 30_000) throw new Error('OpenCV (WebAssembly) did not initialise within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Emscripten's Module is a thenable that resolves to itself: resolving a promise with it never settles,
    // so `then` is dropped once the runtime is up.
    delete mod.then;
    return mod as CV;
  })();
  return loading;
}

export type Interpolation = 'nearest' | 'linear' | 'cubic' | 'area';

const matType = (cv: CV, channels: number, float: boolean): number => {
  if (float) return channels === 1 ? cv.CV_32FC1 : cv.CV_32FC3;
  return channels === 1 ? cv.CV_8UC1 : channels === 3 ? cv.CV_8UC3 : cv.CV_8UC4;
};

/** Runs `fn` on a Mat holding `img` and frees every Mat it allocates through `track`. */
export function withMat<T>(cv: CV, img: Image8 | ImageF, fn: (src: Mat, track: (m: Mat) => Mat) => T): T {
  const mats: Mat[] = [];
  const track = (m: Mat) => {
    mats.push(m);
    return m;
  };
  try {
    const src = track(cv.matFromArray(img.height, img.width, matType(cv, img.channels, img.data instanceof Float32Array), img.data));
    return fn(src, track);
  } finally {
    for (const m of mats) m.delete();
  }
}

export function toImage8(m: Mat): Image8 {
  return { width: m.cols, height: m.rows, channels: m.channels(), data: Uint8Array.from(m.data) };
}

export function toImageF(m: Mat): ImageF {
  return { width: m.cols, height: m.rows, channels: m.channels(), data: Float32Array.from(m.data32F) };
}

/** cv2.resize(img, (width, height), interpolation=…). */
export function resize(cv: CV, img: Image8, width: number, height: number, interpolation: Interpolation): Image8 {
  if (img.width === width && img.height === height) return img;
  const flag = { nearest: cv.INTER_NEAREST, linear: cv.INTER_LINEAR, cubic: cv.INTER_CUBIC, area: cv.INTER_AREA }[interpolation];
  return withMat(cv, img, (src, track) => {
    const dst = track(new cv.Mat());
    cv.resize(src, dst, new cv.Size(width, height), 0, 0, flag);
    return toImage8(dst);
  });
}

/** cv2.GaussianBlur(img, (0, 0), sigma): kernel size chosen by OpenCV from σ; uint8 in → uint8 out, float → float. */
export function gaussianBlur<T extends Image8 | ImageF>(cv: CV, img: T, sigma: number): T {
  return withMat(cv, img, (src, track) => {
    const dst = track(new cv.Mat());
    cv.GaussianBlur(src, dst, new cv.Size(0, 0), sigma, sigma);
    return (img.data instanceof Float32Array ? toImageF(dst) : toImage8(dst)) as T;
  });
}

/** cv2.Canny(img, low, high): 3×3 Sobel, L1 gradient; a 3-channel input uses the strongest channel's gradient. */
export function canny(cv: CV, img: Image8, low: number, high: number): Image8 {
  return withMat(cv, img, (src, track) => {
    const dst = track(new cv.Mat());
    cv.Canny(src, dst, low, high, 3, false);
    return toImage8(dst);
  });
}

/** cv2.threshold(gray, 0, 255, THRESH_BINARY + THRESH_OTSU) on a 1-channel uint8 image. */
export function otsuThreshold(cv: CV, img: Image8): Image8 {
  return withMat(cv, img, (src, track) => {
    const dst = track(new cv.Mat());
    cv.threshold(src, dst, 0, 255, cv.THRESH_BINARY + cv.THRESH_OTSU);
    return toImage8(dst);
  });
}
