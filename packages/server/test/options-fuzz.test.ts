/**
 * Stateful fuzzing of the options (issue 13 point 1): every option key set to hostile values through POST /options;
 * whatever the server accepts must leave GET /options, /progress, /sdapi/v2/capabilities and a generation free of
 * 5xx. Found: "NaN"/"inf" stored as non-finite floats broke GET /options (500), and a bad samples_format made every
 * later generation a 500.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from './helpers/http.ts';

const HOSTILE: unknown[] = ['NaN', '-inf', null, {}, '', 'bmp', 1e308];

test('every option × hostile values: accepted or 4xx, and the server keeps working (no 5xx)', async () => {
  const server = await startTestServer();
  const post = (body: unknown) => server.request('/sdapi/v1/options', { method: 'POST', json: body });
  const defaults = (await (await server.request('/sdapi/v1/options')).json()) as Record<string, unknown>;
  const problems: string[] = [];
  let accepted = 0;
  for (const key of Object.keys(defaults)) {
    if (key === 'sd_model_checkpoint') continue; // loads a model: covered by options.test.ts
    let changed = false;
    for (const value of HOSTILE) {
      const res = await post({ [key]: value });
      const text = await res.text();
      if (res.status >= 500) problems.push(`POST ${key}=${JSON.stringify(value)} → ${res.status} ${text.slice(0, 100)}`);
      if (res.status !== 200) continue;
      accepted++;
      changed = true;
      const got = await server.request('/sdapi/v1/options');
      await got.arrayBuffer();
      if (got.status >= 500) problems.push(`after ${key}=${JSON.stringify(value)}: GET /options → ${got.status}`);
      const gen = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: { steps: 1, width: 8, height: 8 } });
      const genText = await gen.text();
      if (gen.status >= 500) problems.push(`after ${key}=${JSON.stringify(value)}: txt2img → ${gen.status} ${genText.slice(0, 100)}`);
    }
    if (changed) assert.equal((await post({ [key]: defaults[key] })).status, 200, `restoring ${key}`);
  }
  for (const path of ['/sdapi/v1/progress', '/sdapi/v2/capabilities', '/health']) assert.equal((await server.request(path)).status, 200);
  console.log(`options fuzz: ${Object.keys(defaults).length} keys × ${HOSTILE.length} values, ${accepted} accepted, ${problems.length} problems`);
  assert.deepEqual(problems, []);
});
