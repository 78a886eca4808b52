import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SDClient, UnprocessableEntityError } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const { url, generator } = await startServer();
const sd = new SDClient({ baseURL: url });

test('options.retrieve: every setting with A1111 defaults', async () => {
  const options = await sd.options.retrieve();
  assert.equal(options.sd_model_checkpoint, null);
  assert.equal(options.CLIP_stop_at_last_layers, 1);
  assert.ok(Object.keys(options).length > 300);
});

test('options.update: required params (a setting) and a checkpoint switch by model name', async () => {
  assert.equal(await sd.options.update({ eta_noise_seed_delta: 31337 }), null);
  assert.equal((await sd.options.retrieve()).eta_noise_seed_delta, 31337);
  assert.equal(await sd.options.update({ sd_model_checkpoint: 'sub_other' }), null);
  assert.deepEqual(generator.loads, ['sub/other.safetensors']);
  assert.match(String((await sd.options.retrieve()).sd_model_checkpoint), /^sub\/other\.safetensors \[/);
});

test('options.update with an unknown key rejects with A1111 KeyError body (422 here; A1111 answers 500)', async () => {
  const err = await sd.options.update({ not_a_setting: 1 }, { maxRetries: 0 }).catch((e: unknown) => e);
  assert.ok(err instanceof UnprocessableEntityError);
  assert.deepEqual(err.body, { error: 'KeyError', detail: '', body: '', errors: "'not_a_setting'" });
  assert.match(err.message, /KeyError: 'not_a_setting'$/);
});
