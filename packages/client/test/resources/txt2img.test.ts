import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePng } from '@sdapi/engine';
import { decodeImage, parseInfo, SDClient, UnprocessableEntityError } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const { url, generator } = await startServer();
const sd = new SDClient({ baseURL: url });

test('txt2img: only required params (none: server defaults apply)', async () => {
  generator.calls.length = 0;
  generator.stepDelayMs = 0;
  const res = await sd.txt2img({ width: 8, height: 8, steps: 1 });
  assert.equal(res.images?.length, 1);
  assert.equal(res.parameters.sampler_index, 'Euler');
  assert.equal(generator.calls[0].samplerName, 'Euler');
});

test('txt2img: required and optional params, decoded image and parsed info', async () => {
  const res = await sd.txt2img({
    prompt: 'a cat',
    negative_prompt: 'blurry',
    seed: 42,
    sampler_name: 'DPM++ 2M Karras',
    steps: 2,
    cfg_scale: 6.5,
    width: 8,
    height: 16,
    batch_size: 2,
    override_settings: { CLIP_stop_at_last_layers: 2 },
  });
  const info = parseInfo(res.info);
  assert.deepEqual(info.all_seeds, [42, 43]);
  assert.equal(info.sampler_name, 'DPM++ 2M');
  assert.equal(info.clip_skip, 2);
  const png = decodePng(decodeImage(res.images?.[1] ?? ''));
  assert.deepEqual([png.width, png.height], [8, 16]);
  assert.equal(png.text.parameters, info.infotexts[1]);
});

test('txt2img().withResponse() exposes the HTTP response next to the data', async () => {
  const { data, response } = await sd.txt2img({ width: 8, height: 8, steps: 1 }).withResponse();
  assert.equal(response.status, 200);
  assert.match(response.headers.get('x-process-time') ?? '', /^\d+\.\d+$/);
  assert.equal(data.images?.length, 1);
  const raw = await sd.txt2img({ width: 8, height: 8, steps: 1 }).asResponse();
  assert.equal(((await raw.json()) as { images: string[] }).images.length, 1);
});

test('an unknown sampler rejects with UnprocessableEntityError carrying the server body', async () => {
  const err = await sd.txt2img({ sampler_name: 'nope', steps: 1 }).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UnprocessableEntityError);
  assert.equal(err.status, 422);
  assert.equal((err.body as { error: string }).error, 'HTTPException');
  assert.match(err.message, /^422 POST http:\/\/127\.0\.0\.1:\d+\/sdapi\/v1\/txt2img: Sampler not found: sampler_name "nope"/);
});

test('a validation error message lists the field and pydantic message', async () => {
  const err = await sd.txt2img({ steps: 'many' as unknown as number }).catch((e: unknown) => e);
  assert.ok(err instanceof UnprocessableEntityError);
  assert.match(err.message, /body\.steps: value is not a valid integer$/);
});
