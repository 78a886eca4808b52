/**
 * The few Pillow pixel operations that A1111's img2img/inpainting path runs on 8-bit images, reproduced with
 * Pillow's own integer arithmetic so that composites are byte-exact: `Image.alpha_composite`, `paste` with an
 * L mask, RGBA ↔ premultiplied RGBa conversion, RGB → L, and crop/paste. Arithmetic ported from
 * python-pillow/Pillow@9.5.0 src/libImaging/{AlphaComposite.c, Paste.c, Convert.c, ImagingUtils.h}
 * (HPND licence). Images here are plain interleaved byte arrays with their channel count.
 */

/** An 8-bit interleaved image: 1 (L), 3 (RGB) or 4 (RGBA) channels per pixel. */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export function pixels(width: number, height: number, channels: 1 | 3 | 4, data?: Uint8Array): Pixels {
  const size = width * height * channels;
  if (data && data.length !== size) throw new RangeError(`pixels: ${data.length} bytes for ${width}x${height}x${channels} (${size} expected)`);
  return { width, height, channels, data: data ?? new Uint8Array(size) };
}

/** ImagingUtils.h SHIFTFORDIV255 / DIV255 / MULDIV255: x/255 rounded, in integers. */
const shiftForDiv255 = (a: number) => ((a >>> 8) + a) >>> 8;
export const mulDiv255 = (a: number, b: number): number => shiftForDiv255(a * b + 128);

/** `Image.convert('L')` from RGB(A): ITU-R 601-2 luma with Pillow's 16-bit fixed-point weights. */
export function toL(img: Pixels): Pixels {
  if (img.channels === 1) return img;
  const out = pixels(img.width, img.height, 1);
  for (let p = 0, i = 0; p < out.data.length; p++, i += img.channels) {
    out.data[p] = (img.data[i] * 19595 + img.data[i + 1] * 38470 + img.data[i + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** One channel of an image (the alpha of RGBA: `image.split()[-1]`). */
export function channel(img: Pixels, c: number): Pixels {
  const out = pixels(img.width, img.height, 1);
  for (let p = 0; p < out.data.length; p++) out.data[p] = img.data[p * img.channels + c];
  return out;
}

/** `Image.convert(mode)` between L, RGB and RGBA (opaque alpha added, alpha dropped, gray replicated). */
export function convert(img: Pixels, channels: 1 | 3 | 4): Pixels {
  if (img.channels === channels) return img;
  if (channels === 1) return toL(img);
  const out = pixels(img.width, img.height, channels);
  for (let p = 0; p < img.width * img.height; p++) {
    for (let c = 0; c < 3; c++) out.data[p * channels + c] = img.data[p * img.channels + (img.channels === 1 ? 0 : c)];
    if (channels === 4) out.data[p * 4 + 3] = img.channels === 4 ? img.data[p * 4 + 3] : 255;
  }
  return out;
}

/** `ImageOps.invert` of an L image. */
export function invert(img: Pixels): Pixels {
  return { ...img, data: img.data.map((v) => 255 - v) };
}

/**
 * `Image.alpha_composite(dst, src)` (AlphaComposite.c): src over dst, both RGBA, Pillow's 7-bit-precision
 * integer blend. Returns a new image.
 */
export function alphaComposite(dst: Pixels, src: Pixels): Pixels {
  if (dst.channels !== 4 || src.channels !== 4 || dst.width !== src.width || dst.height !== src.height) {
    throw new RangeError(
      `alphaComposite needs two RGBA images of one size, got ${dst.width}x${dst.height}x${dst.channels} and ${src.width}x${src.height}x${src.channels}`,
    );
  }
  const out = new Uint8Array(dst.data.length);
  const PRECISION = 128; // 1 << PRECISION_BITS (7)
  for (let i = 0; i < out.length; i += 4) {
    const sa = src.data[i + 3];
    if (sa === 0) {
      out.set(dst.data.subarray(i, i + 4), i);
      continue;
    }
    const outa255 = sa * 255 + dst.data[i + 3] * (255 - sa);
    const coef1 = Math.floor((sa * 255 * 255 * PRECISION) / outa255);
    const coef2 = 255 * PRECISION - coef1;
    for (let c = 0; c < 3; c++) {
      const tmp = src.data[i + c] * coef1 + dst.data[i + c] * coef2 + 0x80 * PRECISION;
      out[i + c] = Math.floor(shiftForDiv255(tmp) / PRECISION);
    }
    out[i + 3] = shiftForDiv255(outa255 + 0x80);
  }
  return { ...dst, data: out };
}

/** RGBA → premultiplied RGBa (Convert.c rgbA2rgba). */
export function premultiply(img: Pixels): Pixels {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 4) {
    const a = img.data[i + 3];
    for (let c = 0; c < 3; c++) out[i + c] = mulDiv255(img.data[i + c], a);
    out[i + 3] = a;
  }
  return { ...img, data: out };
}

/** Premultiplied RGBa → RGBA (Convert.c rgba2rgbA: integer division, alpha 0 and 255 copied). */
export function unpremultiply(img: Pixels): Pixels {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 4) {
    const a = img.data[i + 3];
    for (let c = 0; c < 3; c++) out[i + c] = a === 255 || a === 0 ? img.data[i + c] : Math.min(255, Math.floor((255 * img.data[i + c]) / a));
    out[i + 3] = a;
  }
  return { ...img, data: out };
}

/**
 * `Image.new(mode, size).paste(src, mask=mask)` onto a blank (zero) image: every byte becomes
 * DIV255(src·m) (Paste.c paste_mask_L blending against 0).
 */
export function maskedOntoBlank(src: Pixels, mask: Pixels): Pixels {
  const out = new Uint8Array(src.data.length);
  for (let p = 0; p < mask.data.length; p++) {
    const m = mask.data[p];
    for (let c = 0; c < src.channels; c++) out[p * src.channels + c] = mulDiv255(src.data[p * src.channels + c], m);
  }
  return { ...src, data: out };
}

/** `Image.crop((x1, y1, x2, y2))`; the box lies inside the image. */
export function crop(img: Pixels, [x1, y1, x2, y2]: readonly [number, number, number, number]): Pixels {
  const out = pixels(x2 - x1, y2 - y1, img.channels);
  const rowBytes = out.width * img.channels;
  for (let y = 0; y < out.height; y++) {
    const from = ((y1 + y) * img.width + x1) * img.channels;
    out.data.set(img.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return out;
}

/** `dst.paste(src, (x, y))` in place (same channel count); parts outside `dst` are clipped. */
export function pasteInto(dst: Pixels, src: Pixels, x: number, y: number): void {
  if (dst.channels !== src.channels) throw new RangeError(`pasteInto: ${src.channels} channels into ${dst.channels}`);
  const c = dst.channels;
  const x0 = Math.max(0, x);
  const x1 = Math.min(dst.width, x + src.width);
  if (x1 <= x0) return;
  for (let row = Math.max(0, y); row < Math.min(dst.height, y + src.height); row++) {
    const from = ((row - y) * src.width + (x0 - x)) * c;
    dst.data.set(src.data.subarray(from, from + (x1 - x0) * c), (row * dst.width + x0) * c);
  }
}

/** `ImageColor.getrgb` for `#rgb` / `#rrggbb` (option img2img_background_color). */
export function parseHexColor(text: string): [number, number, number] {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text.trim());
  if (!m) throw new RangeError(`colour must be #rgb or #rrggbb, got ${JSON.stringify(text)}`);
  const hex = m[1].length === 3 ? [...m[1]].map((d) => d + d).join('') : m[1];
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** A1111 `images.flatten`: an image with alpha composited over an opaque background colour, as RGB. */
export function flatten(img: Pixels, background: readonly [number, number, number]): Pixels {
  if (img.channels !== 4) return convert(img, 3);
  const bg = pixels(img.width, img.height, 4);
  for (let i = 0; i < bg.data.length; i += 4) bg.data.set([...background, 255], i);
  return convert(alphaComposite(bg, img), 3);
}
