/**
 * Style files without the engine (FakeGenerator): GET /prompt-styles over several files (A1111's dividers),
 * `--styles-file` wildcards, re-reading a changed file, the request's `styles` merged before the generator runs,
 * and GET /embeddings from a generator without textual inversion.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { expandStylePaths, PromptStyles, styleDivider } from '../src/services/styles.ts';
import { startTestServer } from './helpers/http.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-styles-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the divider is the file stem, upper-cased, centred in 40 dashes (Python str.center)', () => {
  assert.equal(styleDivider('/x/styles.csv'), '---------------- STYLES ----------------');
  assert.equal(styleDivider('/x/abc.csv'), '----------------- ABC ------------------');
  assert.equal(styleDivider('/x/abc.csv').length, 40);
});

test('several style files: a divider before each file; wildcards; changes are picked up; styles reach the generator', async () => {
  const a = join(dir, 'styles.csv');
  const b = join(dir, 'extra-1.csv');
  writeFileSync(a, '\ufeffname,prompt,negative_prompt\n# hidden,x,y\nfancy,"{prompt}, masterpiece",lowres\n');
  writeFileSync(b, 'name,text\nold,"in the style of an old master"\n');
  assert.deepEqual(expandStylePaths([a, join(dir, 'extra-*.csv'), join(dir, 'none-*.csv')]), [a, b]);
  const server = await startTestServer({ stylesFiles: [a, join(dir, 'extra-*.csv')] });
  const list = await (await server.request('/sdapi/v1/prompt-styles')).json();
  assert.deepEqual(list, [
    { name: '---------------- STYLES ----------------', prompt: null, negative_prompt: null },
    { name: 'fancy', prompt: '{prompt}, masterpiece', negative_prompt: 'lowres' },
    { name: '--------------- EXTRA-1 ----------------', prompt: null, negative_prompt: null },
    { name: 'old', prompt: 'in the style of an old master', negative_prompt: '' },
  ]);
  const response = await server.request('/sdapi/v1/txt2img', {
    method: 'POST',
    json: { prompt: ' a cat ', negative_prompt: '', styles: ['old', 'fancy'], steps: 1 },
  });
  assert.equal(response.status, 200, await response.clone().text());
  const params = server.generator.calls.at(-1);
  assert.equal(params?.prompt, 'a cat, in the style of an old master, masterpiece');
  assert.equal(params?.negativePrompt, 'lowres');
  assert.deepEqual(params?.styles, ['old', 'fancy']);
  writeFileSync(b, 'name,prompt,negative_prompt\nold,"{prompt} (etching)",photo, text\n');
  const changed = await (await server.request('/sdapi/v1/prompt-styles')).json();
  assert.deepEqual(changed.at(-1), { name: 'old', prompt: '{prompt} (etching)', negative_prompt: 'photo' }, 'CSV: the third column ends at the next comma');
});

test('no styles file: an empty list; GET /embeddings of a generator without textual inversion is empty', async () => {
  const server = await startTestServer({ stylesFiles: [join(dir, 'missing.csv')] });
  assert.deepEqual(await (await server.request('/sdapi/v1/prompt-styles')).json(), []);
  assert.deepEqual(await (await server.request('/sdapi/v1/embeddings')).json(), { loaded: {}, skipped: {} });
  const refresh = await server.request('/sdapi/v1/refresh-embeddings', { method: 'POST' });
  assert.deepEqual([refresh.status, await refresh.json()], [200, null]);
});

test('hires-fix prompts get the styles when set; empty ones stay empty (they mean the already styled main prompt)', () => {
  const file = join(dir, 'hires.csv');
  writeFileSync(file, 'name,prompt,negative_prompt\nsharp,"{prompt}, sharp",soft\n');
  const styles = new PromptStyles([file]);
  const hires = { scale: 2, resizeX: 0, resizeY: 0, upscaler: null, secondPassSteps: 0, samplerName: null, scheduler: null, prompt: 'a dog', negativePrompt: '' };
  const out = styles.apply({ prompt: 'a cat', negativePrompt: 'ugly', styles: ['sharp'], hires });
  assert.deepEqual([out.prompt, out.negativePrompt, out.hires?.prompt, out.hires?.negativePrompt], ['a cat, sharp', 'ugly, soft', 'a dog, sharp', '']);
  const none = { prompt: 'a cat', negativePrompt: '', styles: [], hires: null };
  assert.equal(styles.apply(none), none, 'no styles: the params as they were');
});
