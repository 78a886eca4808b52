import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pyFloat, pyJsonDumps } from '@sdapi/engine';
import { startTestServer } from './helpers/http.ts';
import { needVector, SPEC_DIR } from './helpers/spec.ts';

const skipVector = needVector('options.json');

/** The vector body re-serialised compactly with Python's int/float distinction kept (`2.0` stays a float). */
async function vectorBody(key: string): Promise<string> {
  const text = await readFile(join(SPEC_DIR, 'vectors', 'options.json'), 'utf8');
  const tagged = text.replace(/"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (t) => (t.startsWith('"') || !/[.eE]/.test(t) ? t : `{"$f":${t}}`));
  const parsed = JSON.parse(tagged, (_k, v) => (v && typeof v === 'object' && '$f' in v ? pyFloat(v.$f) : v));
  return pyJsonDumps(parsed[key], { separators: [',', ':'], ensureAscii: false });
}

test('GET /options on a fresh install is byte-identical to A1111 with an empty config.json', { skip: skipVector }, async () => {
  const server = await startTestServer();
  const res = await server.request('/sdapi/v1/options', { headers: { 'accept-encoding': 'identity' } });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), await vectorBody('GET /sdapi/v1/options with empty config.json (Python json, key order = response order)'));
});

test('GET /options with every key stored returns int options as floats, like A1111', { skip: skipVector }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sdapi-options-'));
  const fresh = (await (await (await startTestServer()).request('/sdapi/v1/options')).json()) as any;
  await writeFile(join(dataDir, 'config.json'), JSON.stringify(fresh));
  const server = await startTestServer({ dataDir });
  const text = await (await server.request('/sdapi/v1/options')).text();
  assert.equal(
    text,
    await vectorBody(
      'GET /sdapi/v1/options when config.json holds every key at its default (values are validated by the response model: int options become floats)',
    ),
  );
});

test('POST /options stores values, writes config.json and answers null; restricted keys are ignored', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sdapi-options-'));
  const server = await startTestServer({ dataDir });
  const res = await server.request('/sdapi/v1/options', {
    method: 'POST',
    json: { CLIP_stop_at_last_layers: 2, api_enable_requests: false, samples_format: 'png' },
  });
  assert.deepEqual([res.status, await res.text()], [200, 'null']);
  const saved = JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8'));
  assert.deepEqual(saved, { CLIP_stop_at_last_layers: 2 });
  const text = await (await server.request('/sdapi/v1/options')).text();
  assert.match(text, /"CLIP_stop_at_last_layers":2\.0,/);
  assert.match(text, /"api_enable_requests":true,/);
  const reopened = await startTestServer({ dataDir });
  assert.match(await (await reopened.request('/sdapi/v1/options')).text(), /"CLIP_stop_at_last_layers":2\.0,/);
});

test("POST /options with an unknown key is A1111's KeyError body with 422 (A1111: 500; issue 13: never a 5xx); nothing changes (A1111 keeps earlier keys in memory)", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sdapi-options-'));
  const server = await startTestServer({ dataDir });
  const res = await server.request('/sdapi/v1/options', { method: 'POST', json: { eta_ancestral: 0.5, "it's": 1 } });
  assert.equal(res.status, 422);
  assert.equal(await res.text(), '{"error":"KeyError","detail":"","body":"","errors":"\\"it\'s\\""}');
  assert.equal(res.headers.has('x-process-time'), false);
  assert.match(await (await server.request('/sdapi/v1/options')).text(), /"eta_ancestral":1\.0,/);
  await assert.rejects(readFile(join(dataDir, 'config.json')), /ENOENT/);
});

test('POST /options checks each value against its option type (422 naming body.<key>); nothing changes; coercible values are stored coerced', async () => {
  const server = await startTestServer();
  const bad = await server.request('/sdapi/v1/options', {
    method: 'POST',
    json: { eta_ancestral: 0.5, CLIP_stop_at_last_layers: 'abc', samples_format: ['png'] },
  });
  assert.equal(bad.status, 422);
  const { detail } = (await bad.json()) as { detail: { loc: string[]; type: string }[] };
  assert.deepEqual(
    detail.map((d) => [d.loc.join('.'), d.type]),
    [
      ['body.CLIP_stop_at_last_layers', 'type_error.float'],
      ['body.samples_format', 'type_error.str'],
    ],
  );
  let options = (await (await server.request('/sdapi/v1/options')).json()) as Record<string, unknown>;
  assert.deepEqual([options.eta_ancestral, options.CLIP_stop_at_last_layers, options.samples_format], [1, 1, 'png']);
  const ok = await server.request('/sdapi/v1/options', {
    method: 'POST',
    json: { CLIP_stop_at_last_layers: '2', enable_pnginfo: 'no', samples_format: 'jpg' },
  });
  assert.equal(ok.status, 200);
  options = (await (await server.request('/sdapi/v1/options')).json()) as Record<string, unknown>;
  assert.deepEqual([options.CLIP_stop_at_last_layers, options.enable_pnginfo, options.samples_format], [2, false, 'jpg']);
});

test("POST /options sd_model_checkpoint: exact aliases load the model; anything else is A1111's RuntimeError body with 422", async () => {
  const server = await startTestServer();
  const bad = await server.request('/sdapi/v1/options', { method: 'POST', json: { sd_model_checkpoint: 'Other' } });
  assert.equal(bad.status, 422);
  assert.equal(await bad.text(), `{"error":"RuntimeError","detail":"","body":"","errors":"model 'Other' not found"}`);
  assert.deepEqual(server.generator.loads, []);

  const ok = await server.request('/sdapi/v1/options', { method: 'POST', json: { sd_model_checkpoint: 'sub_other' } });
  assert.deepEqual([ok.status, await ok.text()], [200, 'null']);
  assert.deepEqual(server.generator.loads, ['sub/other.safetensors']);
  const options = (await (await server.request('/sdapi/v1/options')).json()) as any;
  const [model] = ((await (await server.request('/sdapi/v1/sd-models')).json()) as any).filter((m: { model_name: string }) => m.model_name === 'sub_other');
  assert.equal(options.sd_model_checkpoint, model.title);
  assert.match(model.title, /^sub\/other\.safetensors \[[0-9a-f]{10}\]$/);
  assert.equal(options.sd_checkpoint_hash, model.sha256);

  // The next job keeps the configured checkpoint; the title with its hash is now an alias too.
  await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 1, width: 8, height: 8 } });
  assert.deepEqual(server.generator.loads, ['sub/other.safetensors']);
  const again = await server.request('/sdapi/v1/options', { method: 'POST', json: { sd_model_checkpoint: model.title } });
  assert.equal(again.status, 200);
});

test('POST /options with a body that is not an object is a 422', async () => {
  const server = await startTestServer();
  const res = await server.request('/sdapi/v1/options', { method: 'POST', json: [1, 2] });
  assert.equal(res.status, 422);
  assert.deepEqual(await res.json(), { detail: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
});
