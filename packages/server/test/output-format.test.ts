/** Images in responses (spec §1.10): option samples_format png/jpg/jpeg/webp, jpeg_quality, enable_pnginfo. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeImage } from '@sdapi/engine';
import { fakePixels } from './helpers/fake-generator.ts';
import { startTestServer } from './helpers/http.ts';

const server = await startTestServer();
const SMALL = { width: 32, height: 16, steps: 2, seed: 9, prompt: 'a jpeg, please' };
const setOptions = async (o: Record<string, unknown>) => assert.equal((await server.request('/sdapi/v1/options', { method: 'POST', json: o })).status, 200);
const txt2img = (body: Record<string, unknown> = SMALL) => server.post('/sdapi/v1/txt2img', body);

for (const [samplesFormat, format] of [
  ['jpg', 'jpeg'],
  ['JPEG', 'jpeg'],
  ['webp', 'webp'],
  ['png', 'png'],
] as const) {
  test(`samples_format ${samplesFormat}: images are ${format} with the infotext where A1111 puts it`, async () => {
    await setOptions({ samples_format: samplesFormat, jpeg_quality: 95, enable_pnginfo: true });
    const { status, body } = await txt2img();
    assert.equal(status, 200);
    const infotext = JSON.parse(body.info).infotexts[0];
    const image = await decodeImage(Buffer.from(body.images[0], 'base64'));
    assert.equal(image.format, format);
    assert.equal(format === 'png' ? image.text.parameters : image.userComment, infotext);
    const expected = fakePixels(9, 32, 16);
    let sum = 0;
    for (let p = 0; p < 32 * 16; p++) for (let c = 0; c < 3; c++) sum += Math.abs(image.rgba[p * 4 + c] - expected[p * 3 + c]);
    const mae = sum / (32 * 16 * 3);
    console.log(`# ${samplesFormat}: mean abs pixel difference ${mae.toFixed(2)}`);
    // The fake's pattern is a sawtooth that lossy codecs smear; a channel or row mix-up would give ~85.
    assert.ok(format === 'png' ? mae === 0 : mae < 40, `mean abs pixel difference ${mae}`);
  });
}

test('jpeg_quality changes the JPEG size; enable_pnginfo off leaves the UserComment empty', async () => {
  await setOptions({ samples_format: 'jpg', jpeg_quality: 10, enable_pnginfo: true });
  const small = (await txt2img()).body.images[0].length;
  await setOptions({ jpeg_quality: 100, enable_pnginfo: false });
  const { body } = await txt2img();
  assert.ok(body.images[0].length > small, `q100 ${body.images[0].length} > q10 ${small}`);
  assert.equal((await decodeImage(Buffer.from(body.images[0], 'base64'))).userComment, '');
  await setOptions({ enable_pnginfo: true });
});

test('an unknown samples_format is A1111\'s "Invalid image format", before any generation', async () => {
  await setOptions({ samples_format: 'bmp' });
  const before = server.generator.calls.length;
  const { status, body } = await txt2img();
  assert.deepEqual([status, body.detail], [422, 'Invalid image format']); // A1111: 500 (issue 13: no 5xx)
  assert.equal(server.generator.calls.length, before, 'nothing was generated');
  await setOptions({ samples_format: 'png' });
});

test('a samples_format override does not change the returned encoding (encoding happens after restore, §4.3)', async () => {
  const { body } = await txt2img({ ...SMALL, override_settings: { samples_format: 'jpg' } });
  assert.equal((await decodeImage(Buffer.from(body.images[0], 'base64'))).format, 'png');
});
