/**
 * POST /sdapi/v1/png-info (spec §3.4): every case of vectors/infotext_parse.json read back from a PNG over HTTP
 * (styles.csv and options as the vector's environment), JPEG/WEBP infotexts from EXIF UserComment, other text
 * chunks in `items`, NovelAI images, and errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeImage, encodePng } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';
import { needVector, readVector } from './helpers/spec.ts';

interface ParseCase {
  infotext: string;
  options?: Record<string, unknown>;
  skip_fields?: string[];
  expected: Record<string, unknown>;
}

const RGB = new Uint8Array(8 * 8 * 3).fill(120);
const skip = needVector('infotext_parse.json');

async function post(server: Awaited<ReturnType<typeof startTestServer>>, image: string) {
  const res = await server.request('/sdapi/v1/png-info', { method: 'POST', json: { image } });
  return {
    status: res.status,
    body: (await res.json()) as { info: string; items: Record<string, unknown>; parameters: Record<string, unknown>; detail?: string },
  };
}

describe('png-info reproduces every case of vectors/infotext_parse.json', { skip }, async () => {
  if (skip) return;
  const vector = readVector<{ environment: { 'styles.csv': string; options: Record<string, unknown> }; cases: ParseCase[] }>('infotext_parse.json');
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-pnginfo-'));
  writeFileSync(join(dataDir, 'styles.csv'), vector.environment['styles.csv']);
  const server = await startTestServer({ dataDir });
  const setOptions = (o: Record<string, unknown>) => server.request('/sdapi/v1/options', { method: 'POST', json: o });
  vector.cases.forEach((c, i) => {
    test(`case ${i}: ${JSON.stringify(c.infotext.slice(0, 40))}`, async () => {
      await setOptions({ ...vector.environment.options, ...c.options, infotext_skip_pasting: c.skip_fields ?? [] });
      const png = encodePng(RGB, 8, 8, { parameters: c.infotext });
      const { status, body } = await post(server, png.toString('base64'));
      assert.equal(status, 200);
      assert.equal(body.info, c.infotext);
      assert.deepEqual(body.items, {});
      assert.deepEqual(Object.entries(body.parameters), Object.entries(c.expected));
    });
  });
});

describe('png-info sources', async () => {
  const server = await startTestServer();
  const INFOTEXT = 'a cat, 猫\nNegative prompt: dog\nSteps: 12, Sampler: Euler a, CFG scale: 6.5, Seed: 7, Size: 8x8';

  test('JPEG and WEBP carry the infotext in EXIF UserComment', async () => {
    for (const format of ['jpeg', 'webp'] as const) {
      const file = await encodeImage(RGB, 8, 8, { format, text: { parameters: INFOTEXT } });
      const { status, body } = await post(server, `data:image/${format};base64,${file.toString('base64')}`);
      assert.equal(status, 200, format);
      assert.equal(body.info, INFOTEXT);
      assert.equal(body.parameters.Steps, '12');
      assert.equal(body.parameters.Prompt, 'a cat, 猫');
    }
  });

  test('other text chunks go to items; an image without infotext still gets the default-filled parameters', async () => {
    const png = encodePng(RGB, 8, 8, { parameters: INFOTEXT, postprocessing: 'Postprocess upscale by: 2', Software: 'x' });
    const { body } = await post(server, png.toString('base64'));
    assert.deepEqual(body.items, { postprocessing: 'Postprocess upscale by: 2', Software: 'x' });
    const bare = await post(server, `  ${encodePng(RGB, 8, 8).toString('base64')}\n`);
    assert.equal(bare.body.info, '');
    assert.deepEqual(Object.keys(bare.body.parameters).slice(0, 3), ['Prompt', 'Negative prompt', 'Clip skip']);
    assert.equal(bare.body.parameters['Clip skip'], '1');
  });

  test('a NovelAI PNG becomes an A1111 infotext (sampler through the alias table, Python number formatting)', async () => {
    const comment = JSON.stringify({ steps: 28, sampler: 'k_euler_ancestral', seed: 123, scale: 11, uc: 'lowres, bad' }).replace('"scale":11', '"scale":11.0');
    const png = encodePng(RGB, 8, 8, { Software: 'NovelAI', Description: 'masterpiece, 1girl', Comment: comment });
    const { body } = await post(server, png.toString('base64'));
    assert.equal(
      body.info,
      'masterpiece, 1girl\nNegative prompt: lowres, bad\nSteps: 28, Sampler: Euler a, CFG scale: 11.0, Seed: 123, Size: 8x8, Clip skip: 2, ENSD: 31337',
    );
    assert.equal(body.parameters.Sampler, 'Euler a');
    assert.equal(body.parameters.ENSD, '31337');
  });

  test('errors: undecodable image 400 "Invalid encoded image"; missing image 422', async () => {
    const bad = await post(server, 'bm90IGFuIGltYWdl');
    assert.deepEqual([bad.status, bad.body.detail], [400, 'Invalid encoded image']);
    const res = await server.request('/sdapi/v1/png-info', { method: 'POST', json: {} });
    assert.equal(res.status, 422);
    assert.deepEqual(((await res.json()) as { detail: { loc: string[] }[] }).detail[0].loc, ['body', 'image']);
  });
});
