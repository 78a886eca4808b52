/**
 * ESRGAN / Real-ESRGAN upscalers (upscalers/rrdbnet.ts, model-upscaler.ts). No genuine model or PyTorch output is
 * available offline, so the graph is checked against a plain float64 reading of BasicSR's RRDBNet.forward written
 * here (LeakyReLU 0.2, dense concatenations, ×0.2 residuals, nearest ×2, pixel_unshuffle), on small random models
 * in both key layouts; and a model whose weights make it an exact nearest-neighbour ×4 shows the BGR in/out, the
 * rounding, the tiling (tiles put back where they belong) and A1111's Upscaler.upscale loop end to end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { type Pixels, pixels } from '../src/image/compose.ts';
import { pixelUpscale } from '../src/image/pixel-upscale.ts';
import { resizePixels } from '../src/image/resize.ts';
import { ModelUpscaler } from '../src/upscalers/model-upscaler.ts';
import { type RrdbConfig, readRrdbConfig } from '../src/upscalers/rrdbnet.ts';
import { small, type Weights, weightsFor, writeCopyModel, writeModel } from './helpers/esrgan.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-esrgan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function seeded(seed: number) {
  return () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 - 0.5;
  };
}

// ---- a float64 reference of BasicSR's RRDBNet.forward, [C][H][W] arrays ----
type Image3 = Float64Array[]; // channel planes, h·w each

function conv3x3(x: Image3, h: number, w: number, wt: { dims: number[]; data: Float32Array }, bias: { data: Float32Array }): Image3 {
  const [cout, cin] = wt.dims;
  const out: Image3 = [];
  for (let o = 0; o < cout; o++) {
    const plane = new Float64Array(h * w).fill(bias.data[o]);
    for (let i = 0; i < cin; i++) {
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const k = wt.data[((o * cin + i) * 3 + ky) * 3 + kx];
          for (let y = 0; y < h; y++) {
            const sy = y + ky - 1;
            if (sy < 0 || sy >= h) continue;
            for (let xx = 0; xx < w; xx++) {
              const sx = xx + kx - 1;
              if (sx >= 0 && sx < w) plane[y * w + xx] += k * x[i][sy * w + sx];
            }
          }
        }
      }
    }
    out.push(plane);
  }
  return out;
}

const lrelu = (x: Image3) => x.map((p) => p.map((v) => (v >= 0 ? v : 0.2 * v)));
const addScaled = (a: Image3, b: Image3, s: number) => a.map((p, c) => p.map((v, i) => v * s + b[c][i]));
const up2 = (x: Image3, h: number, w: number) =>
  x.map((p) => Float64Array.from({ length: 4 * h * w }, (_, i) => p[Math.floor(Math.floor(i / (2 * w)) / 2) * w + Math.floor((i % (2 * w)) / 2)]));

function reference(config: RrdbConfig, weights: Weights, input: Image3, h0: number, w0: number): { out: Image3; h: number; w: number } {
  const W = (name: string) => weights.get(`${name}.weight`) as { dims: number[]; data: Float32Array };
  const B = (name: string) => weights.get(`${name}.bias`) as { dims: number[]; data: Float32Array };
  let h = h0;
  let w = w0;
  let x = input;
  const r = config.unshuffle;
  if (r > 1) {
    // torch pixel_unshuffle: out channel c·r² + i·r + j = in[c][y·r + i][x·r + j]
    h /= r;
    w /= r;
    const folded: Image3 = [];
    for (let c = 0; c < input.length; c++)
      for (let i = 0; i < r; i++)
        for (let j = 0; j < r; j++) folded.push(Float64Array.from({ length: h * w }, (_, p) => input[c][(Math.floor(p / w) * r + i) * w0 + (p % w) * r + j]));
    x = folded;
  }
  const conv = (t: Image3, name: string) => conv3x3(t, h, w, W(name), B(name));
  const feat = conv(x, 'conv_first');
  let trunk = feat;
  for (let b = 0; b < config.blocks; b++) {
    const start = trunk;
    let t = trunk;
    for (let k = 1; k <= 3; k++) {
      const seen = [t];
      for (let c = 1; c <= 4; c++) seen.push(lrelu(conv(seen.flat() as unknown as Image3, `body.${b}.rdb${k}.conv${c}`)));
      t = addScaled(conv(seen.flat() as unknown as Image3, `body.${b}.rdb${k}.conv5`), t, 0.2);
    }
    trunk = addScaled(t, start, 0.2);
  }
  let f = addScaled(conv(trunk, 'conv_body'), feat, 1);
  for (let u = 1; u <= config.upsamplings; u++) {
    f = up2(f, h, w);
    h *= 2;
    w *= 2;
    f = lrelu(conv(f, `conv_up${u}`));
  }
  return { out: conv(lrelu(conv(f, 'conv_hr')), 'conv_last'), h, w };
}

async function graphOutput(path: string, input: Image3, h: number, w: number) {
  const upscaler = await ModelUpscaler.open(path);
  try {
    // Through `run`'s own conversion would round to bytes; feed the session directly for the float comparison.
    const data = new Float32Array(input.flatMap((p) => [...p]));
    const session = (upscaler as unknown as { session: { run: (f: object) => Promise<Record<string, { data: Float32Array; shape: number[] }>> } }).session;
    const { Tensor } = await import('../src/tensor.ts');
    return (await session.run({ image: new Tensor([1, input.length, h, w], data) })).upscaled;
  } finally {
    await upscaler.release();
  }
}

for (const variant of [
  { label: 'BasicSR keys, ×4', config: small() },
  { label: 'original ESRGAN keys, ×4', config: small({ layout: 'esrgan' }) },
  { label: 'Real-ESRGAN ×2 (pixel_unshuffle 2)', config: small({ unshuffle: 2, scale: 2 }) },
  { label: 'original ESRGAN keys, ×8 (three upsamplings)', config: small({ layout: 'esrgan', upsamplings: 3, scale: 8, blocks: 1 }) },
  { label: 'original ESRGAN keys with pixel_unshuffle 2, ×2', config: small({ layout: 'esrgan', unshuffle: 2, scale: 2, blocks: 1 }) },
]) {
  test(`RRDBNet graph = a float64 reading of BasicSR's forward: ${variant.label}`, async () => {
    const uniform = seeded(7);
    const weights = weightsFor(variant.config, () => uniform() * 0.4);
    const path = writeModel(join(dir, `${variant.label.replace(/\W+/g, '-')}.safetensors`), variant.config, weights);
    assert.deepEqual(readRrdbConfig(path), variant.config, 'the configuration is read back from the keys and shapes');
    const [h, w] = [8, 6];
    const pixelsIn = seeded(3);
    const input: Image3 = Array.from({ length: 3 }, () => Float64Array.from({ length: h * w }, () => pixelsIn() + 0.5));
    const got = await graphOutput(path, input, h, w);
    const want = reference(variant.config, weights, input, h, w);
    assert.deepEqual(got.shape, [1, 3, want.h, want.w]);
    assert.equal(want.h, h * variant.config.scale);
    let worst = 0;
    let scale = 0;
    const flat = want.out.flatMap((p) => [...p]);
    flat.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - got.data[i]));
      scale = Math.max(scale, Math.abs(v));
    });
    console.log(`# ${variant.label}: max |graph − reference| ${worst.toExponential(2)} (max |out| ${scale.toFixed(3)})`);
    assert.ok(scale > 0.05, 'the random model gives a non-trivial output');
    assert.ok(worst < 1e-5 * Math.max(1, scale), `max diff ${worst}`);
  });
}

function testImage(w: number, h: number, seed: number): Pixels {
  const img = pixels(w, h, 3);
  const next = seeded(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.floor((next() + 0.5) * 256);
  return img;
}

test('a copying ×4 model: the result is the Nearest ×4 enlargement, whole and in 16 px tiles with overlap 4', async () => {
  const upscaler = await ModelUpscaler.open(writeCopyModel(join(dir, 'copy.safetensors')));
  try {
    assert.equal(upscaler.config.scale, 4);
    const img = testImage(37, 23, 5); // not a multiple of the tile: the last tiles sit flush with the border
    const whole = await upscaler.runTiled(img, { tile: 0, overlap: 0 });
    assert.deepEqual([whole.width, whole.height], [148, 92]);
    const tiled = await upscaler.runTiled(img, { tile: 16, overlap: 4 });
    for (const [label, out] of [
      ['whole', whole],
      ['tiled', tiled],
    ] as const) {
      let diff = 0;
      for (let y = 0; y < out.height; y++)
        for (let x = 0; x < out.width; x++)
          for (let c = 0; c < 3; c++)
            diff = Math.max(diff, Math.abs(out.data[(y * out.width + x) * 3 + c] - img.data[(Math.floor(y / 4) * img.width + Math.floor(x / 4)) * 3 + c]));
      assert.equal(diff, 0, `${label}: each pixel copied 4×4, in place and in its own channel`);
    }
    // Upscaler.upscale by 2 with a ×4 model: one pass, then Lanczos down to ⌊37·2/8⌋·8 × ⌊23·2/8⌋·8; by 4, the
    // pass and then Lanczos to 144×88, which is what Nearest ×4 gives too (Pillow's nearest step is the same copy).
    const byTwo = await upscaler.upscale(img, 2, { tile: 192, overlap: 8 });
    assert.deepEqual([byTwo.width, byTwo.height], [72, 40]);
    assert.deepEqual(await upscaler.upscale(img, 4, { tile: 192, overlap: 8 }), pixelUpscale(img, 4, 'Nearest'));
  } finally {
    await upscaler.release();
  }
});

test('an image smaller than one tile is padded as A1111 pads it and cut back; RGBA loses its alpha', async () => {
  const upscaler = await ModelUpscaler.open(writeCopyModel(join(dir, 'copy2.safetensors')));
  try {
    const img = testImage(10, 7, 9);
    const whole = await upscaler.runTiled(img, { tile: 0, overlap: 0 });
    const padded = await upscaler.runTiled(img, { tile: 64, overlap: 8 });
    assert.deepEqual(padded, whole, 'a copying model does not see the padding');
    const rgba = pixels(10, 7, 4);
    for (let p = 0; p < 70; p++) rgba.data.set([...img.data.subarray(p * 3, p * 3 + 3), 17], p * 4);
    assert.deepEqual(await upscaler.runTiled(rgba, { tile: 0, overlap: 0 }), whole);
  } finally {
    await upscaler.release();
  }
});

test('a ×2 (pixel_unshuffle) model on an odd size: reflect-padded to even, the output cropped back to 2·size', async () => {
  const config = small({ unshuffle: 2, scale: 2, blocks: 1 });
  const uniform = seeded(11);
  const upscaler = await ModelUpscaler.open(
    writeModel(
      join(dir, 'x2.safetensors'),
      config,
      weightsFor(config, () => uniform() * 0.4),
    ),
  );
  try {
    const img = testImage(7, 5, 2);
    const out = await upscaler.run(img);
    assert.deepEqual([out.width, out.height], [14, 10]);
    // torch's reflect padding of the right column and bottom row (the edge itself is not repeated)
    const padded = pixels(8, 6, 3);
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 8; x++)
        padded.data.set(img.data.subarray(((y < 5 ? y : 3) * 7 + (x < 7 ? x : 5)) * 3, ((y < 5 ? y : 3) * 7 + (x < 7 ? x : 5)) * 3 + 3), (y * 8 + x) * 3);
    const full = await upscaler.run(padded);
    for (let y = 0; y < 10; y++) assert.deepEqual(out.data.subarray(y * 42, y * 42 + 42), full.data.subarray(y * 48, y * 48 + 42), `row ${y}`);
  } finally {
    await upscaler.release();
  }
});

test('an interrupt: no tile runs after it, and Upscaler.upscale gives the input resized by Lanczos, as A1111 does', async () => {
  const upscaler = await ModelUpscaler.open(writeCopyModel(join(dir, 'copy3.safetensors')));
  try {
    const img = testImage(37, 23, 8);
    const stop = new AbortController();
    stop.abort();
    assert.equal(await upscaler.runTiled(img, { tile: 16, overlap: 4 }, stop.signal), img, 'the input back, untouched');
    const out = await upscaler.upscale(img, 4, { tile: 16, overlap: 4 }, stop.signal);
    assert.deepEqual([out.width, out.height], [144, 88], 'still the size asked for');
    assert.deepEqual(out, await lanczosTo(img, 144, 88), 'no model pass, only the final Lanczos resize');
  } finally {
    await upscaler.release();
  }
});

test('a file that is not an RRDBNet is refused naming it', async () => {
  const path = join(dir, 'not-esrgan.safetensors');
  writeSafetensors(path, { 'encoder.weight': { dtype: 'F32', shape: [1], data: new Uint8Array(4) } });
  await assert.rejects(ModelUpscaler.open(path), /not-esrgan\.safetensors.*not an ESRGAN/);
});

/** Pillow's Lanczos straight to w × h (what A1111's Upscaler.upscale ends with). */
const lanczosTo = (img: Pixels, w: number, h: number) => resizePixels(img, w, h);
