import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { Tensor } from '../tensor.ts';
import { decodeImage, encodeImage, ImageDecodeError, ImageTooLargeError } from './codec.ts';
import { readUserComment } from './exif.ts';
import { approxCheapPreview } from './latent-preview.ts';

const W = 6;
const H = 4;
const RGB = new Uint8Array(W * H * 3).map((_, i) => (i * 37) & 0xff);
/** A smooth picture for the lossy formats (noise would be smeared by chroma subsampling). */
const SMOOTH = new Uint8Array(W * H * 3).map((_, i) => 40 + 50 * (i % 3) + 12 * (Math.floor(i / 3) % W) + 8 * Math.floor(i / 3 / W));
const INFOTEXT = 'ünïcode 猫, (x:1.2)\nNegative prompt: bad\nSteps: 2, Seed: 1';

test('PNG keeps exact pixels and the parameters text chunk', async () => {
  const png = await encodeImage(RGB, W, H, { format: 'png', text: { parameters: INFOTEXT } });
  const d = await decodeImage(png);
  assert.equal(d.format, 'png');
  assert.deepEqual([d.width, d.height, d.hasAlpha], [W, H, false]);
  assert.deepEqual(d.text, { parameters: INFOTEXT });
  for (let p = 0; p < W * H; p++) assert.deepEqual([...d.rgba.subarray(p * 4, p * 4 + 4)], [...RGB.subarray(p * 3, p * 3 + 3), 255]);
});

for (const format of ['jpeg', 'webp'] as const) {
  test(`${format}: the infotext rides in EXIF UserComment as piexif writes it (UNICODE + UTF-16BE, big-endian TIFF)`, async () => {
    const file = await encodeImage(SMOOTH, W, H, { format, quality: 95, text: { parameters: INFOTEXT } });
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, format);
    assert.ok(meta.exif, 'an EXIF block is present');
    const exif = Buffer.from(meta.exif);
    const tiff = exif.subarray(exif.indexOf('MM\0*', 0, 'latin1'));
    assert.equal(tiff.toString('latin1', 0, 4), 'MM\0*');
    const at = tiff.indexOf('UNICODE\0', 0, 'latin1');
    assert.ok(at > 0, 'UserComment starts with the UNICODE character code');
    assert.equal(
      Buffer.from(tiff.subarray(at + 8, at + 8 + INFOTEXT.length * 2))
        .swap16()
        .toString('utf16le'),
      INFOTEXT,
    );
    assert.equal(readUserComment(exif), INFOTEXT);
    const d = await decodeImage(file);
    assert.equal(d.userComment, INFOTEXT);
    let maxDiff = 0;
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(d.rgba[p * 4 + c] - SMOOTH[p * 3 + c]));
    console.log(`# ${format} q95 round trip: max pixel difference ${maxDiff}`);
    assert.ok(maxDiff <= 12, 'lossy, but the same picture (a channel or stride mix-up would be far off)');
  });
}

test('an empty infotext still writes an (empty) UserComment, as A1111 does', async () => {
  const d = await decodeImage(await encodeImage(RGB, W, H, { format: 'jpeg' }));
  assert.equal(d.userComment, '');
});

test('EXIF orientation is applied (a 6×4 image tagged "rotate 90° CW" decodes as 4×6)', async () => {
  const jpeg = await sharp(Buffer.from(RGB), { raw: { width: W, height: H, channels: 3 } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const d = await decodeImage(jpeg);
  assert.deepEqual([d.width, d.height], [H, W]);
});

test('palette PNGs with transparency and grey PNGs become RGBA', async () => {
  const rgba = new Uint8Array(W * H * 4).map((_, i) => (i % 4 === 3 ? (i < 40 ? 0 : 255) : 200));
  const palette = await sharp(Buffer.from(rgba), { raw: { width: W, height: H, channels: 4 } })
    .png({ palette: true })
    .toBuffer();
  const d = await decodeImage(palette);
  assert.equal(d.hasAlpha, true);
  assert.equal(d.rgba[3], 0, 'transparent pixel keeps alpha 0');
  assert.equal(d.rgba[W * H * 4 - 1], 255);
  const grey = await sharp(Buffer.alloc(W * H, 77), { raw: { width: W, height: H, channels: 1 } })
    .png()
    .toBuffer();
  const g = await decodeImage(grey);
  assert.deepEqual([...g.rgba.subarray(0, 4)], [77, 77, 77, 255]);
});

test('bytes that are no image are an ImageDecodeError', async () => {
  await assert.rejects(decodeImage(Buffer.from('not an image')), ImageDecodeError);
  await assert.rejects(decodeImage(new Uint8Array(0)), ImageDecodeError);
});

test('maxPixels: an image over it is an ImageTooLargeError with its header size; at the limit it decodes', async () => {
  const png = await encodeImage(RGB, W, H, { format: 'png' });
  const error = await decodeImage(png, { maxPixels: W * H - 1 }).catch((e: unknown) => e);
  assert.ok(error instanceof ImageTooLargeError, String(error));
  assert.ok(error instanceof ImageDecodeError, 'a subclass: callers that catch ImageDecodeError still catch it');
  assert.deepEqual([error.width, error.height, error.maxPixels, error.format], [W, H, W * H - 1, 'png']);
  assert.match(error.message, /6x4 \(24 pixels\).*at most 23 pixels/);
  assert.equal((await decodeImage(png, { maxPixels: W * H })).width, W);
  // A real JPEG whose SOF0 is patched to claim 30000×30000: refused by its header size, not decoded.
  const jpeg = Buffer.from(await encodeImage(SMOOTH, W, H, { format: 'jpeg' }));
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  jpeg.writeUInt16BE(30000, sof + 5);
  jpeg.writeUInt16BE(30000, sof + 7);
  const huge = await decodeImage(jpeg).catch((e: unknown) => e);
  assert.ok(huge instanceof ImageTooLargeError, String(huge));
  assert.deepEqual([huge.width, huge.height], [30000, 30000]);
});

test('Approx cheap preview: latent-sized RGB, zero latent is mid-grey, channel 0 maps through its factors', () => {
  const latent = new Tensor([2, 4, 3, 5]);
  const zero = approxCheapPreview(latent, 'sd', 1);
  assert.deepEqual([zero.width, zero.height, zero.rgb.length], [5, 3, 45]);
  assert.ok(zero.rgb.every((v) => v === 128));
  latent.data.fill(1, 0, 15); // image 0, channel 0
  const one = approxCheapPreview(latent, 'sd', 0);
  assert.deepEqual([...one.rgb.subarray(0, 3)], [172, 157, 169]); // (0.3512, 0.2297, 0.3227)·0.5 + 0.5, ×255
  const xl = approxCheapPreview(latent, 'sdxl', 1);
  assert.deepEqual([...xl.rgb.subarray(0, 3)], [141, 125, 127], 'SDXL adds its bias');
  assert.throws(() => approxCheapPreview(latent, 'sd', 2), /batch of 2/);
});
