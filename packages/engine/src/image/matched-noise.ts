/**
 * Spectrally matched noise for outpainting (A1111's "Outpainting mk2", spec §5.6): the area to paint (mask = 1)
 * is filled with noise whose Fourier magnitude follows the known part of the image, then its values are
 * histogram-matched to the known pixels, so img2img starts from plausible colours and texture instead of black.
 * Steps as the script's `get_matched_noise`: window the known image (unknown area = its mean colour), take its
 * centred 2-D spectrum (magnitude and phase), low-pass a grey-leaning uniform noise with the window
 * 1/((x²+1)(y²+1)), shape it as |N|²·|S|^q·phase(S), normalise, match each channel's histogram (inside the mask) to
 * the known pixels (as skimage.exposure.match_histograms), composite. The uniform noise comes from our own seeded
 * generator (A1111 uses numpy's default_rng(0)), so the pixels differ from A1111's while the method is the same.
 * FFTs of any size by Bluestein's algorithm over a radix-2 transform.
 */

/** In-place radix-2 complex FFT (n a power of two); `inverse` without the 1/n. */
function fftPow2(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        [cr, ci] = [cr * wr - ci * wi, cr * wi + ci * wr];
      }
    }
  }
}

/** A 1-D DFT of any length (Bluestein), unnormalised; `inverse` flips the sign of the exponent. */
export function dft(re: Float64Array, im: Float64Array, inverse = false): [Float64Array, Float64Array] {
  const n = re.length;
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const sign = inverse ? 1 : -1;
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const a = (sign * Math.PI * ((k * k) % (2 * n))) / n;
    wr[k] = Math.cos(a);
    wi[k] = Math.sin(a);
  }
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  const br = new Float64Array(m);
  const bi = new Float64Array(m);
  for (let k = 0; k < n; k++) {
    ar[k] = re[k] * wr[k] - im[k] * wi[k];
    ai[k] = re[k] * wi[k] + im[k] * wr[k];
    br[k] = wr[k];
    bi[k] = -wi[k];
    if (k > 0) {
      br[m - k] = wr[k];
      bi[m - k] = -wi[k];
    }
  }
  fftPow2(ar, ai, false);
  fftPow2(br, bi, false);
  for (let k = 0; k < m; k++) [ar[k], ai[k]] = [ar[k] * br[k] - ai[k] * bi[k], ar[k] * bi[k] + ai[k] * br[k]];
  fftPow2(ar, ai, true);
  const outR = new Float64Array(n);
  const outI = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const cr = ar[k] / m;
    const ci = ai[k] / m;
    outR[k] = cr * wr[k] - ci * wi[k];
    outI[k] = cr * wi[k] + ci * wr[k];
  }
  return [outR, outI];
}

/** A complex H×W plane. */
interface Plane {
  re: Float64Array;
  im: Float64Array;
}

/** numpy fftshift(fft2(ifftshift(x), norm="ortho")) (or the inverse) of one H×W plane. */
function fft2c(p: Plane, h: number, w: number, inverse: boolean): Plane {
  const shift = (src: Plane, dy: number, dx: number): Plane => {
    const out = { re: new Float64Array(h * w), im: new Float64Array(h * w) };
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const to = ((y + dy) % h) * w + ((x + dx) % w);
        out.re[to] = src.re[y * w + x];
        out.im[to] = src.im[y * w + x];
      }
    }
    return out;
  };
  // ifftshift moves index ⌊n/2⌋ to 0 (a shift by ⌈n/2⌉); fftshift moves 0 to ⌊n/2⌋.
  const data = shift(p, Math.ceil(h / 2), Math.ceil(w / 2));
  const scale = 1 / Math.sqrt(h * w);
  for (let y = 0; y < h; y++) {
    const [r, i] = dft(data.re.subarray(y * w, (y + 1) * w), data.im.subarray(y * w, (y + 1) * w), inverse);
    data.re.set(r, y * w);
    data.im.set(i, y * w);
  }
  const colR = new Float64Array(h);
  const colI = new Float64Array(h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      colR[y] = data.re[y * w + x];
      colI[y] = data.im[y * w + x];
    }
    const [r, i] = dft(colR, colI, inverse);
    for (let y = 0; y < h; y++) {
      data.re[y * w + x] = r[y] * scale;
      data.im[y * w + x] = i[y] * scale;
    }
  }
  return shift(data, Math.floor(h / 2), Math.floor(w / 2));
}

/** A small seeded uniform generator (mulberry32) in [0, 1). */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** skimage's cumulative-histogram matching of `source` values to `template` values (one channel). */
export function matchHistogram(source: Float64Array, template: Float64Array): Float64Array {
  const uniq = (values: Float64Array) => {
    const sorted = Float64Array.from(values).sort();
    const vals: number[] = [];
    const counts: number[] = [];
    for (const v of sorted) {
      if (vals.length > 0 && vals[vals.length - 1] === v) counts[counts.length - 1]++;
      else {
        vals.push(v);
        counts.push(1);
      }
    }
    let acc = 0;
    const quantiles = counts.map((c) => (acc += c) / values.length);
    return { vals, quantiles };
  };
  const src = uniq(source);
  const tmpl = uniq(template);
  const mapped = new Map<number, number>();
  let j = 0;
  for (const [i, v] of src.vals.entries()) {
    const q = src.quantiles[i];
    while (j < tmpl.quantiles.length - 1 && tmpl.quantiles[j + 1] < q) j++;
    // np.interp(q, tmpl_quantiles, tmpl_values), clamped at both ends.
    let out: number;
    if (q <= tmpl.quantiles[0]) out = tmpl.vals[0];
    else if (j >= tmpl.quantiles.length - 1) out = tmpl.vals[tmpl.vals.length - 1];
    else {
      const [q0, q1] = [tmpl.quantiles[j], tmpl.quantiles[j + 1]];
      out = tmpl.vals[j] + ((tmpl.vals[j + 1] - tmpl.vals[j]) * (q - q0)) / (q1 - q0);
    }
    mapped.set(v, out);
  }
  return source.map((v) => mapped.get(v) ?? v);
}

/**
 * `rgb` H×W×3 in [0, 1] and the mask H×W in [0, 1] (1 = to paint) → the image with matched noise in the masked
 * area, values in [0, 1]. `noiseQ` shapes the spectrum (1 = the image's), `colorVariation` 0…1 how colourful the
 * starting noise is.
 */
export function matchedNoise(rgb: Float64Array, mask: Float64Array, h: number, w: number, noiseQ: number, colorVariation: number, seed = 0): Float64Array {
  const n = h * w;
  let peak = 0;
  let mean = 0;
  const windowed = new Float64Array(n * 3);
  for (let i = 0; i < n * 3; i++) {
    windowed[i] = rgb[i] * (1 - mask[Math.floor(i / 3)]);
    peak = Math.max(peak, windowed[i]);
    mean += rgb[i];
  }
  mean /= n * 3;
  for (let i = 0; i < n * 3; i++) windowed[i] = (peak > 0 ? windowed[i] / peak : 0) + mean * mask[Math.floor(i / 3)];

  const scaleY = h / Math.min(h, w);
  const scaleX = w / Math.min(h, w);
  const window = new Float64Array(n);
  for (let y = 0; y < h; y++) {
    const fy = ((y / h) * 2 - 1) * scaleY;
    for (let x = 0; x < w; x++) {
      const fx = ((x / w) * 2 - 1) * scaleX;
      window[y * w + x] = 1 / ((fy * fy + 1) * (fx * fx + 1));
    }
  }
  const random = uniform(seed);
  const noise = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [random(), random(), random()];
    const grey = (r + g + b) / 3;
    for (const [c, v] of [r, g, b].entries()) noise[i * 3 + c] = v * colorVariation + (1 - colorVariation) * grey;
  }
  const channel = (data: Float64Array, c: number): Plane => ({ re: Float64Array.from({ length: n }, (_, i) => data[i * 3 + c]), im: new Float64Array(n) });
  const shaped = new Float64Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const src = fft2c(channel(windowed, c), h, w, false);
    const low = fft2c(channel(noise, c), h, w, false);
    for (let i = 0; i < n; i++) {
      low.re[i] *= window[i];
      low.im[i] *= window[i];
    }
    const lowNoise = fft2c(low, h, w, true);
    lowNoise.im.fill(0);
    const spectrum = fft2c(lowNoise, h, w, false);
    for (let i = 0; i < n; i++) {
      const dist = Math.hypot(src.re[i], src.im[i]);
      const power = spectrum.re[i] ** 2 + spectrum.im[i] ** 2;
      const gain = dist > 0 ? (power * dist ** noiseQ) / dist : 0;
      spectrum.re[i] = gain * src.re[i];
      spectrum.im[i] = gain * src.im[i];
    }
    const out = fft2c(spectrum, h, w, true);
    for (let i = 0; i < n; i++) shaped[i * 3 + c] = out.re[i];
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of shaped) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  for (let i = 0; i < shaped.length; i++) shaped[i] = hi > lo ? (shaped[i] - lo) / (hi - lo) : 0;
  const paint: number[] = [];
  const known: number[] = [];
  for (let i = 0; i < n; i++) {
    if (mask[i] > 1e-6) paint.push(i);
    if (mask[i] < 1e-3) known.push(i);
  }
  if (paint.length > 0 && known.length > 0) {
    for (let c = 0; c < 3; c++) {
      const matched = matchHistogram(
        Float64Array.from(paint, (i) => shaped[i * 3 + c]),
        Float64Array.from(known, (i) => rgb[i * 3 + c]),
      );
      for (const [k, i] of paint.entries()) shaped[i * 3 + c] = matched[k];
    }
  }
  const out = new Float64Array(n * 3);
  for (let i = 0; i < n * 3; i++) {
    const m = mask[Math.floor(i / 3)];
    out[i] = Math.min(1, Math.max(0, rgb[i] * (1 - m) + shaped[i] * m));
  }
  return out;
}
