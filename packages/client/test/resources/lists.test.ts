import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SDClient } from '../../src/index.ts';
import { startServer } from '../helpers/server.ts';

const { url } = await startServer();
const sd = new SDClient({ baseURL: `${url}/` });

test('sdModels.list: only required params', async () => {
  const models = await sd.sdModels.list();
  assert.deepEqual(
    models.map((m) => m.model_name),
    ['v1-5-pruned-emaonly', 'sub_other'],
  );
  assert.equal(models[0].hash, null);
});

test('samplers.list and schedulers.list: the A1111 tables', async () => {
  const samplers = await sd.samplers.list();
  assert.equal(samplers[0].name, 'DPM++ 2M');
  assert.deepEqual(samplers.find((s) => s.name === 'Euler a')?.options, { uses_ensd: 'True' });
  const schedulers = await sd.schedulers.list();
  assert.deepEqual(schedulers.map((s) => s.label).slice(0, 3), ['Automatic', 'Uniform', 'Karras']);
});

test('sdModels.list with request options (per-call timeout and headers)', async () => {
  const models = await sd.sdModels.list({ timeout: 5_000, headers: { 'x-trace': '1' } });
  assert.equal(models.length, 2);
});
