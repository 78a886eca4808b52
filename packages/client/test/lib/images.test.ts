import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImage, imageToBase64, imageToBlob, imageToDataURL, parseInfo, parseResult, sniffImageType } from '../../src/index.ts';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255, 128]);
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2]);
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

test('base64 ⇄ bytes, Blobs and data URLs round-trip (large inputs too)', async () => {
  const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
  assert.equal(await imageToBase64(big), b64(big), 'chunked btoa equals Buffer');
  assert.deepEqual(decodeImage(b64(big)), big);
  assert.deepEqual(decodeImage(`data:image/png;base64,${b64(PNG)}`), PNG, 'a data: prefix is tolerated');
  assert.deepEqual(decodeImage(`${b64(PNG).slice(0, 4)}\n${b64(PNG).slice(4)}`), PNG, 'and whitespace');
  const blob = imageToBlob(b64(JPEG));
  assert.equal(blob.type, 'image/jpeg');
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), JPEG);
  assert.equal(await imageToDataURL(blob), `data:image/jpeg;base64,${b64(JPEG)}`);
  assert.equal(await imageToDataURL(PNG.buffer), `data:image/png;base64,${b64(PNG)}`);
  assert.equal(await imageToDataURL(b64(JPEG)), `data:image/jpeg;base64,${b64(JPEG)}`, 'raw base64 gets the sniffed type');
  assert.equal(await imageToDataURL('https://example.com/a.png'), 'https://example.com/a.png', 'URLs are for the server to fetch');
  assert.equal(await imageToBase64(`data:image/png;base64,${b64(PNG)}`), b64(PNG), 'ControlNet wants raw base64');
  assert.throws(() => decodeImage('ab$cd'), /not valid base64 \(unexpected character "\$"\)/);
});

test('sniffImageType knows PNG, JPEG, GIF, WEBP', () => {
  assert.equal(sniffImageType(PNG), 'image/png');
  assert.equal(sniffImageType(JPEG), 'image/jpeg');
  assert.equal(sniffImageType(new TextEncoder().encode('GIF89a')), 'image/gif');
  assert.equal(sniffImageType(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
  assert.equal(sniffImageType(new Uint8Array([1, 2, 3])), undefined);
});

test('parseInfo reads Python json.dumps output, NaN/Infinity included (but not inside strings)', () => {
  const info = parseInfo('{"prompt": "NaN Infinity", "cfg_scale": NaN, "eta": -Infinity, "seed": 1}');
  assert.deepEqual(info as unknown, { prompt: 'NaN Infinity', cfg_scale: null, eta: null, seed: 1 });
});

test('parseResult maps every image route like webuiapi: images/image, info/html_info/caption, parameters', () => {
  const gen = parseResult({ images: [b64(PNG)], parameters: { steps: 3 }, info: '{"seed": 9}' });
  assert.deepEqual(gen.images, [PNG]);
  assert.deepEqual(gen.info, { seed: 9 });
  assert.deepEqual(gen.parameters, { steps: 3 });
  const extras = parseResult({ html_info: '<p></p>', image: b64(JPEG) });
  assert.deepEqual([extras.images, extras.info, extras.parameters], [[JPEG], '<p></p>', {}]);
  assert.equal(parseResult({ caption: 'a cat' }).info, 'a cat');
  assert.equal(parseResult({ info: 'a cat\nSteps: 20', items: {}, parameters: { Steps: '20' } }).info, 'a cat\nSteps: 20', 'png-info infotext stays text');
});
