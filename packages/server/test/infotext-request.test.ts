/**
 * The infotext → settings map (spec §8.5, every case of vectors/infotext_override_settings.json) and the
 * `infotext` request field of txt2img/img2img over HTTP (§8.6).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodePng } from '@sdapi/engine';
import { OptionsStore } from '../src/index.ts';
import { infotextOverrideSettings } from '../src/services/infotext-request.ts';
import { OPTION_TABLE } from '../src/services/option-defaults.ts';
import { startTestServer } from './helpers/http.ts';
import { needVector, readVector } from './helpers/spec.ts';

interface OverrideCase {
  params: Record<string, string | number | boolean>;
  disable_weights_auto_swap: boolean;
  expected: [string, string, unknown][];
}

const skip = needVector('infotext_override_settings.json');

describe('vectors/infotext_override_settings.json, every case', { skip }, async () => {
  if (skip) return;
  const vector = readVector<{ infotext_key_to_setting: [string, string][]; cases: OverrideCase[] }>('infotext_override_settings.json');
  const defaults = (await OptionsStore.open()).effective();
  test("the option table maps exactly the vector's infotext keys, in its order", () => {
    const rows = OPTION_TABLE.filter((row) => row[3] !== undefined).map(([key, , , infotext]) => [infotext, key]);
    assert.deepEqual(rows, vector.infotext_key_to_setting);
  });
  vector.cases.forEach((c, i) => {
    test(`case ${i}: ${Object.keys(c.params).join(', ')} (auto swap ${c.disable_weights_auto_swap ? 'off' : 'on'})`, () => {
      const current = { ...defaults, disable_weights_auto_swap: c.disable_weights_auto_swap };
      // No checkpoint has hash abcdef1234, so `Model hash` never maps (as in the vector).
      assert.deepEqual(
        infotextOverrideSettings(c.params, current, () => undefined),
        c.expected,
      );
    });
  });
});

test('Model hash switches the checkpoint only with auto swap on and a checkpoint of that hash', () => {
  const find = (hash: string) => (hash === 'abcdef1234' ? 'model.safetensors [abcdef1234]' : undefined);
  assert.deepEqual(infotextOverrideSettings({ 'Model hash': 'abcdef1234' }, { disable_weights_auto_swap: false }, find), [
    ['Model hash', 'sd_model_checkpoint', 'model.safetensors [abcdef1234]'],
  ]);
  assert.deepEqual(infotextOverrideSettings({ 'Model hash': 'abcdef1234' }, { disable_weights_auto_swap: true }, find), []);
});

describe('the infotext request field', async () => {
  const server = await startTestServer();
  const INFOTEXT =
    'a red fox\nNegative prompt: blurry\nSteps: 3, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 42, Size: 24x16, Clip skip: 2, ENSD: 31337';
  const txt2img = async (body: Record<string, unknown>) => {
    const res = await server.request('/sdapi/v1/txt2img', { method: 'POST', json: body });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  test('txt2img: fields not sent take the infotext values; sent fields (an explicit null too) win', async () => {
    const { status, body } = await txt2img({ infotext: INFOTEXT, steps: 2, negative_prompt: null });
    assert.equal(status, 200, JSON.stringify(body));
    const call = server.generator.calls.at(-1);
    assert.ok(call);
    assert.deepEqual([call.prompt, call.negativePrompt, call.steps, call.seed, call.width, call.height, call.cfgScale], ['a red fox', '', 2, 42, 24, 16, 5.5]);
    assert.deepEqual([call.samplerName, call.scheduler], ['DPM++ 2M', 'Karras']);
    assert.equal(call.options.CLIP_stop_at_last_layers, 2, 'Clip skip → override_settings');
    assert.equal(call.options.eta_noise_seed_delta, 31337);
    const p = body.parameters;
    assert.deepEqual([p.prompt, p.negative_prompt, p.steps, p.seed, p.width, p.cfg_scale, p.sampler_name], ['a red fox', null, 2, 42, 24, 5.5, 'DPM++ 2M']);
    assert.deepEqual(p.override_settings, { CLIP_stop_at_last_layers: 2, eta_noise_seed_delta: 31337 });
    assert.equal(p.infotext, INFOTEXT);
  });

  test('an override_settings key the client sent is kept', async () => {
    await txt2img({ infotext: INFOTEXT, override_settings: { CLIP_stop_at_last_layers: 3 } });
    assert.equal(server.generator.calls.at(-1)?.options.CLIP_stop_at_last_layers, 3);
  });

  test('a value that does not fit its field is a 422 that names it', async () => {
    const { status, body } = await txt2img({ infotext: 'x\nSteps: many, Sampler: Euler, Seed: 1' });
    assert.equal(status, 422);
    assert.match(body.detail, /infotext: the value for steps \("many"\)/);
  });

  test('img2img: only sampler/steps/seed fields are filled, not the prompt or size', async () => {
    const init = encodePng(new Uint8Array(16 * 8 * 3).fill(50), 16, 8).toString('base64');
    const res = await server.request('/sdapi/v1/img2img', {
      method: 'POST',
      json: { init_images: [init], infotext: INFOTEXT, width: 16, height: 8, prompt: 'kept' },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const call = server.generator.img2imgCalls.at(-1);
    assert.ok(call);
    assert.deepEqual([call.prompt, call.steps, call.seed, call.width, call.cfgScale, call.samplerName], ['kept', 3, 42, 16, 7, 'DPM++ 2M']);
  });
});
