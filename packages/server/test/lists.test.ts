import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pyJsonDumps } from '@sdapi/engine';
import { engineCatalog } from '../src/index.ts';
import { cmdFlagsBody } from '../src/services/cmd-flags.ts';
import { startTestServer } from './helpers/http.ts';
import { needVector, readVector } from './helpers/spec.ts';

const server = await startTestServer();
const skip = needVector('sampler_scheduler_resolution.json');

test('GET /samplers equals A1111 v1.10.1 (option values are strings)', { skip }, async () => {
  const vector = readVector('sampler_scheduler_resolution.json');
  assert.deepEqual((await (await server.request('/sdapi/v1/samplers')).json()) as any, vector['GET /sdapi/v1/samplers']);
});

test('GET /schedulers equals A1111 v1.10.1, default_rho written as a float', { skip }, async () => {
  const vector = readVector('sampler_scheduler_resolution.json');
  const res = await server.request('/sdapi/v1/schedulers');
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), vector['GET /sdapi/v1/schedulers']);
  assert.match(text, /^\[\{"name":"automatic","label":"Automatic","aliases":null,"default_rho":-1\.0,"need_inner_model":false\},/);
});

test('a replacement catalog is served verbatim', async () => {
  const full = engineCatalog();
  const catalog = { samplers: [full.samplers[7]], schedulers: full.schedulers.slice(0, 3) };
  const custom = await startTestServer({ catalog });
  assert.equal(await (await custom.request('/sdapi/v1/samplers')).text(), pyJsonDumps(catalog.samplers, { separators: [',', ':'] }));
  const res = await custom.request('/sdapi/v1/txt2img', { method: 'POST', json: { sampler_name: 'Euler a', steps: 1, width: 8, height: 8 } });
  assert.equal(res.status, 422, 'only the catalog samplers are valid');
  assert.match(((await res.json()) as any).detail, /Valid choices: Euler \(/);
});

test('GET /sd-models lists the generator checkpoints with A1111 names; hashes appear once loaded', async () => {
  const fresh = await startTestServer();
  const before = (await (await fresh.request('/sdapi/v1/sd-models')).json()) as any;
  assert.deepEqual(before[1], {
    title: 'sub/other.safetensors',
    model_name: 'sub_other',
    hash: null,
    sha256: null,
    filename: '/models/Stable-diffusion/sub/other.safetensors',
    config: null,
  });
  await fresh.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 1, width: 8, height: 8 } });
  const [first] = (await (await fresh.request('/sdapi/v1/sd-models')).json()) as any;
  assert.equal(first.title, `v1-5-pruned-emaonly.safetensors [${first.hash}]`);
  assert.equal(first.sha256.slice(0, 10), first.hash);
});

test('/openapi.json documents the routes with A1111 schema titles; /docs serves the Swagger UI', async () => {
  const spec = (await (await server.request('/openapi.json')).json()) as any;
  const body = spec.paths['/sdapi/v1/txt2img'].post.requestBody.content['application/json'].schema;
  assert.equal(JSON.stringify(body).includes('StableDiffusionProcessingTxt2Img'), true);
  const docs = await server.request('/docs');
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
});

test('GET /cmd-flags: A1111 v1.10.1 flags (vector body with paths under our root) plus our own settings', { skip: needVector('cmd_flags.json') }, async () => {
  const vector = readVector('cmd_flags.json')['GET /sdapi/v1/cmd-flags with no arguments'] as Record<string, unknown>;
  assert.deepEqual(cmdFlagsBody('/opt/stable-diffusion-webui'), vector);
  const custom = await startTestServer({ dataDir: '/srv/sd', apiAuth: 'u:p', cmdFlags: { port: 7861, listen: true } });
  const flags = (await (await custom.request('/sdapi/v1/cmd-flags', { headers: { authorization: 'Basic dTpw' } })).json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(flags), Object.keys(vector));
  assert.deepEqual([flags.port, flags.listen, flags.api, flags.nowebui, flags.api_auth], ['7861', true, true, true, '***'], 'api_auth: on, never the value');
  assert.deepEqual([flags.data_dir, flags.lora_dir, flags.styles_file], ['/srv/sd', '/srv/sd/models/Lora', ['/srv/sd/styles.csv']]);
});

test('bodies of 1000 bytes or more are gzipped when the client accepts gzip (starlette GZipMiddleware)', async () => {
  const zipped = await server.request('/sdapi/v1/samplers', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(zipped.headers.get('content-encoding'), 'gzip');
  assert.equal(((await zipped.json()) as unknown[]).length, 20);
  const plain = await server.request('/sdapi/v1/samplers', { headers: { 'accept-encoding': 'identity' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  const small = await server.request('/sdapi/v1/progress', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(small.headers.get('content-encoding'), null, 'small bodies stay plain');
});
