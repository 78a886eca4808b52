/**
 * What every SDK method puts on the wire (method, path, headers, body), against a recording fetch: each core call
 * must be the plain A1111 route with A1111's body, so the client works against A1111 itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ClientOptions, type RequestOptions, SDClient } from '../src/index.ts';

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

function recording(options: ClientOptions = {}, reply: unknown = null) {
  const sent: Sent[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    sent.push({ method: init?.method ?? 'GET', url: String(input), headers, body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
    return new Response(JSON.stringify(reply), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { sent, sd: new SDClient({ baseURL: 'http://sd.test:7860', ...options, fetch: fetchImpl }) };
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const PNG_URL = 'data:image/png;base64,iVBORw0KGgoBAgM=';
const o: RequestOptions = {};

const CALLS: [string, (sd: SDClient) => PromiseLike<unknown>, string, string, unknown][] = [
  ['txt2img', (sd) => sd.txt2img({ prompt: 'a cat', steps: 5 }, o), 'POST', '/sdapi/v1/txt2img', { prompt: 'a cat', steps: 5 }],
  [
    'img2img',
    (sd) => sd.img2img({ init_images: ['abc'], denoising_strength: 0.5 }),
    'POST',
    '/sdapi/v1/img2img',
    { init_images: ['abc'], denoising_strength: 0.5 },
  ],
  [
    'extraSingleImage',
    (sd) => sd.extraSingleImage({ image: 'abc', upscaler_1: 'Lanczos' }),
    'POST',
    '/sdapi/v1/extra-single-image',
    { image: 'abc', upscaler_1: 'Lanczos' },
  ],
  [
    'extraBatchImages',
    (sd) => sd.extraBatchImages({ imageList: [{ data: 'abc', name: 'a' }] }),
    'POST',
    '/sdapi/v1/extra-batch-images',
    { imageList: [{ data: 'abc', name: 'a' }] },
  ],
  ['pngInfo', (sd) => sd.pngInfo({ image: 'abc' }), 'POST', '/sdapi/v1/png-info', { image: 'abc' }],
  ['interrogate', (sd) => sd.interrogate({ image: 'abc', model: 'clip' }), 'POST', '/sdapi/v1/interrogate', { image: 'abc', model: 'clip' }],
  ['interrupt', (sd) => sd.interrupt(), 'POST', '/sdapi/v1/interrupt', undefined],
  ['skip', (sd) => sd.skip(), 'POST', '/sdapi/v1/skip', undefined],
  ['refreshCheckpoints', (sd) => sd.refreshCheckpoints(), 'POST', '/sdapi/v1/refresh-checkpoints', undefined],
  ['refreshVae', (sd) => sd.refreshVae(), 'POST', '/sdapi/v1/refresh-vae', undefined],
  ['refreshLoras', (sd) => sd.refreshLoras(), 'POST', '/sdapi/v1/refresh-loras', undefined],
  ['loras.refresh', (sd) => sd.loras.refresh(), 'POST', '/sdapi/v1/refresh-loras', undefined],
  ['refreshEmbeddings', (sd) => sd.refreshEmbeddings(), 'POST', '/sdapi/v1/refresh-embeddings', undefined],
  ['unloadCheckpoint', (sd) => sd.unloadCheckpoint(), 'POST', '/sdapi/v1/unload-checkpoint', undefined],
  ['reloadCheckpoint', (sd) => sd.reloadCheckpoint(), 'POST', '/sdapi/v1/reload-checkpoint', undefined],
  ['options.retrieve', (sd) => sd.options.retrieve(), 'GET', '/sdapi/v1/options', undefined],
  ['options.update', (sd) => sd.options.update({ CLIP_stop_at_last_layers: 2 }), 'POST', '/sdapi/v1/options', { CLIP_stop_at_last_layers: 2 }],
  ['cmdFlags.retrieve', (sd) => sd.cmdFlags.retrieve(), 'GET', '/sdapi/v1/cmd-flags', undefined],
  ['sdModels.list', (sd) => sd.sdModels.list(), 'GET', '/sdapi/v1/sd-models', undefined],
  ['samplers.list', (sd) => sd.samplers.list(), 'GET', '/sdapi/v1/samplers', undefined],
  ['schedulers.list', (sd) => sd.schedulers.list(), 'GET', '/sdapi/v1/schedulers', undefined],
  ['upscalers.list', (sd) => sd.upscalers.list(), 'GET', '/sdapi/v1/upscalers', undefined],
  ['latentUpscaleModes.list', (sd) => sd.latentUpscaleModes.list(), 'GET', '/sdapi/v1/latent-upscale-modes', undefined],
  ['sdVae.list', (sd) => sd.sdVae.list(), 'GET', '/sdapi/v1/sd-vae', undefined],
  ['hypernetworks.list', (sd) => sd.hypernetworks.list(), 'GET', '/sdapi/v1/hypernetworks', undefined],
  ['faceRestorers.list', (sd) => sd.faceRestorers.list(), 'GET', '/sdapi/v1/face-restorers', undefined],
  ['realesrganModels.list', (sd) => sd.realesrganModels.list(), 'GET', '/sdapi/v1/realesrgan-models', undefined],
  ['promptStyles.list', (sd) => sd.promptStyles.list(), 'GET', '/sdapi/v1/prompt-styles', undefined],
  ['embeddings.list', (sd) => sd.embeddings.list(), 'GET', '/sdapi/v1/embeddings', undefined],
  ['loras.list', (sd) => sd.loras.list(), 'GET', '/sdapi/v1/loras', undefined],
  ['memory.retrieve', (sd) => sd.memory.retrieve(), 'GET', '/sdapi/v1/memory', undefined],
  ['progress.retrieve', (sd) => sd.progress.retrieve({ skip_current_image: true }), 'GET', '/sdapi/v1/progress?skip_current_image=true', undefined],
  ['scripts.list', (sd) => sd.scripts.list(), 'GET', '/sdapi/v1/scripts', undefined],
  ['scriptInfo.list', (sd) => sd.scriptInfo.list(), 'GET', '/sdapi/v1/script-info', undefined],
  ['extensions.list', (sd) => sd.extensions.list(), 'GET', '/sdapi/v1/extensions', undefined],
  ['controlnet.moduleList', (sd) => sd.controlnet.moduleList({ alias_names: true }), 'GET', '/controlnet/module_list?alias_names=true', undefined],
  ['controlnet.detect', (sd) => sd.controlnet.detect({ controlnet_module: 'canny' }), 'POST', '/controlnet/detect', { controlnet_module: 'canny' }],
  ['get (custom_get)', (sd) => sd.get('/tagger/v1/interrogators'), 'GET', '/tagger/v1/interrogators', undefined],
  ['post (custom_post)', (sd) => sd.post('/rembg', { body: { input_image: 'x', model: 'u2net' } }), 'POST', '/rembg', { input_image: 'x', model: 'u2net' }],
  // Helpers: images become data URLs (webuiapi's b64_img), everything else is A1111's field as given.
  [
    'img2imgFrom',
    (sd) => sd.img2imgFrom({ images: [PNG, 'QUJD'], mask: PNG, denoising_strength: 0.4 }),
    'POST',
    '/sdapi/v1/img2img',
    { denoising_strength: 0.4, init_images: [PNG_URL, 'data:image/png;base64,QUJD'], mask: PNG_URL },
  ],
  [
    'inpaint',
    (sd) => sd.inpaint({ image: PNG, mask: new Blob([PNG], { type: 'image/png' }), prompt: 'a hat', inpainting_fill: 1 }),
    'POST',
    '/sdapi/v1/img2img',
    {
      mask_blur: 4,
      inpainting_fill: 1,
      inpaint_full_res: true,
      inpaint_full_res_padding: 0,
      inpainting_mask_invert: 0,
      prompt: 'a hat',
      init_images: [PNG_URL],
      mask: PNG_URL,
    },
  ],
  [
    'upscale',
    (sd) => sd.upscale(PNG.buffer, { upscaler_1: 'Lanczos', upscaling_resize: 3 }),
    'POST',
    '/sdapi/v1/extra-single-image',
    { upscaler_1: 'Lanczos', upscaling_resize: 3, image: PNG_URL },
  ],
  [
    'upscaleBatch',
    (sd) => sd.upscaleBatch([PNG, PNG], { upscaler_1: 'Nearest' }),
    'POST',
    '/sdapi/v1/extra-batch-images',
    {
      upscaler_1: 'Nearest',
      imageList: [
        { data: PNG_URL, name: 'image00001' },
        { data: PNG_URL, name: 'image00002' },
      ],
    },
  ],
  ['pngInfoFrom', (sd) => sd.pngInfoFrom(PNG), 'POST', '/sdapi/v1/png-info', { image: PNG_URL }],
  [
    'controlnet.detectFrom',
    (sd) => sd.controlnet.detectFrom([PNG], { controlnet_module: 'canny' }),
    'POST',
    '/controlnet/detect',
    { controlnet_module: 'canny', controlnet_input_images: [PNG_URL] },
  ],
];

for (const [name, call, method, path, body] of CALLS) {
  test(`${name} → ${method} ${path}`, async () => {
    const { sent, sd } = recording();
    await call(sd);
    assert.equal(sent.length, 1);
    const [req] = sent;
    assert.equal(req.method, method);
    assert.equal(req.url, `http://sd.test:7860${path}`);
    assert.deepEqual(req.body, body);
    // webuiapi sends interrupt/skip with no body and no content type; A1111 must (and does) accept that.
    assert.equal(req.headers['content-type'], body === undefined ? undefined : 'application/json');
    assert.equal(req.headers.accept, 'application/json');
  });
}

test('base URL from host/port/https (webuiapi defaults), a trailing /sdapi/v1 removed, bad URLs refused', async () => {
  assert.equal(new SDClient().baseURL, 'http://127.0.0.1:7860');
  assert.equal(new SDClient({ host: 'gpu.local', port: 443, https: true }).baseURL, 'https://gpu.local:443');
  assert.equal(new SDClient({ baseURL: 'http://h:7861/sdapi/v1/' }).baseURL, 'http://h:7861');
  assert.equal(new SDClient({ baseURL: 'https://h/sd' }).baseURL, 'https://h/sd', 'an A1111 --subpath stays');
  assert.throws(() => new SDClient({ baseURL: '127.0.0.1:7860' }), /must use http or https|absolute http\(s\) URL/);
  assert.throws(() => new SDClient({ baseURL: 'not a url' }), /absolute http\(s\) URL such as "http:\/\/127\.0\.0\.1:7860", got "not a url"/);
});

test('setAuth (webuiapi set_auth) adds HTTP Basic to later calls; defaultHeaders and per-call headers are sent', async () => {
  const { sent, sd: client } = recording({ defaultHeaders: { 'x-app': 'demo' } });
  await client.samplers.list();
  assert.equal(sent[0].headers.authorization, undefined);
  client.setAuth('me', 'sécret');
  await client.samplers.list({ headers: { 'x-trace': '7' } });
  assert.equal(sent[1].headers.authorization, `Basic ${Buffer.from('me:sécret').toString('base64')}`);
  assert.equal(sent[1].headers['x-app'], 'demo');
  assert.equal(sent[1].headers['x-trace'], '7');
});

test('helpers refuse bad input before sending anything', async () => {
  const { sent, sd } = recording();
  await assert.rejects(Promise.resolve(sd.img2imgFrom({ images: [] })), /`images` must be a non-empty array/);
  await assert.rejects(Promise.resolve(sd.upscaleBatch([PNG], { names: ['a', 'b'] })), /2 names for 1 images/);
  await assert.rejects(
    Promise.resolve(sd.upscale(42 as unknown as Uint8Array)),
    /expected a Uint8Array, ArrayBuffer, Blob or base64 string, got \[object Number\]/,
  );
  assert.equal(sent.length, 0);
});
