/**
 * Separate VAE files on a loaded model (pipeline/external-vae.ts, model.ts useVae): the checkpoint's own VAE written
 * to a file decodes and encodes bit-identically; a changed decoder changes the decode; switching back restores it;
 * a file that does not fit is refused with the file and tensor named; the per-file session cache survives a third file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { float32Bytes, SafetensorsFile, writeSafetensors } from '../src/checkpoint/safetensors.ts';
import { writeRandomCheckpoint } from '../src/checkpoint/random.ts';
import { InvalidParamsError } from '../src/errors.ts';
import { hiresCheckpointModel, releaseHiresModel } from '../src/pipeline/hires-checkpoint.ts';
import { LoadedModel } from '../src/pipeline/model.ts';
import { refinerModelFor, releaseRefiner } from '../src/pipeline/refiner.ts';
import { Tensor } from '../src/tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('tiny-sd15', 'model.safetensors');
if (skip) console.log(`# skipping the external VAE tests: ${skip}`);

const PREFIX = 'first_stage_model.';
const dir = mkdtempSync(join(tmpdir(), 'sdapi-external-vae-'));
let model: LoadedModel;

/** The fixture's VAE as a bare-key file, `change` applied to each tensor. */
function writeVae(name: string, change: (key: string, values: Float32Array) => Float32Array = (_, v) => v): string {
  const source = SafetensorsFile.open(fixturePath('tiny-sd15', 'model.safetensors'));
  const tensors = new Map(
    source
      .keys()
      .filter((k) => k.startsWith(PREFIX))
      .map((k) => [
        k.slice(PREFIX.length),
        { dtype: 'F32' as const, shape: source.info(k).shape, data: float32Bytes(change(k.slice(PREFIX.length), source.readFloat32(k).slice())) },
      ]),
  );
  source.close();
  const path = join(dir, name);
  writeSafetensors(path, tensors);
  return path;
}

function latent(): Tensor {
  const t = new Tensor([1, 4, 8, 8]);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * 0.37) * 1.5;
  return t;
}

const maxDiff = (a: Tensor, b: Tensor) => a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);

before(() => {
  if (!skip) model = LoadedModel.open(fixturePath('tiny-sd15', 'model.safetensors'));
});
after(async () => model?.release());

test('the checkpoint VAE as a separate file decodes and encodes identically; a changed decoder differs; null restores', { skip }, async () => {
  const own = await model.decode(latent());
  const image = new Tensor([1, 3, 64, 64], own.data.slice());
  const ownMoments = await model.encodeImage(image);
  model.useVae({ path: writeVae('same.safetensors'), name: 'same.safetensors', shortHash: null });
  const same = await model.decode(latent());
  console.log(`# same weights from a file: decode max diff ${maxDiff(same, own)}, encode ${maxDiff(await model.encodeImage(image), ownMoments)}`);
  assert.equal(maxDiff(same, own), 0);
  assert.equal(maxDiff(await model.encodeImage(image), ownMoments), 0);

  const changed = writeVae('changed.safetensors', (k, v) => (k === 'decoder.conv_out.bias' ? v.map((x) => x + 0.5) : v));
  model.useVae({ path: changed, name: 'changed.safetensors', shortHash: 'abcdef0123' });
  assert.equal(model.vae?.name, 'changed.safetensors');
  const diff = maxDiff(await model.decode(latent()), own);
  console.log(`# decoder.conv_out.bias + 0.5: decode max diff ${diff.toFixed(4)}`);
  assert.ok(Math.abs(diff - 0.5) < 1e-5, `the output moves by the bias change, got ${diff}`);
  assert.equal(maxDiff(await model.encodeImage(image), ownMoments), 0, 'the encoder is unchanged');

  const third = writeVae('third.safetensors');
  model.useVae({ path: third, name: 'third.safetensors', shortHash: null }); // the first file leaves the cache
  assert.equal(maxDiff(await model.decode(latent()), own), 0);
  model.useVae({ path: changed, name: 'changed.safetensors', shortHash: null });
  assert.ok(maxDiff(await model.decode(latent()), own) > 0.49);
  model.useVae(null);
  assert.equal(model.vae, null);
  assert.equal(maxDiff(await model.decode(latent()), own), 0);
});

test('a VAE file missing a tensor or with other shapes is refused at selection, naming the file and the tensor', { skip }, () => {
  const path = join(dir, 'partial.safetensors');
  writeSafetensors(path, { 'decoder.conv_in.weight': { dtype: 'F32', shape: [1], data: float32Bytes(new Float32Array(1)) } });
  assert.throws(
    () => model.useVae({ path, name: 'partial.safetensors', shortHash: null }),
    (e: unknown) => e instanceof InvalidParamsError && e.param === 'sd_vae' && /partial\.safetensors does not fit this model: .*tensor '/.test(e.message),
  );
  assert.equal(model.vae, null, 'the model keeps its VAE');
});

test("the refiner and the hires checkpoint decode with the job model's separate VAE (A1111 sd_vae is model-wide)", { skip }, async () => {
  const other = join(dir, 'other-checkpoint.safetensors');
  writeRandomCheckpoint(other, TINY_SD15, 5); // same latent space, its own random VAE
  const changed = writeVae('changed-for-companions.safetensors', (k, v) => (k === 'decoder.conv_out.bias' ? v.map((x) => x + 0.5) : v));
  model.useVae({ path: changed, name: 'changed-for-companions.safetensors', shortHash: null });
  try {
    const expected = await model.decode(latent());
    for (const companion of [await refinerModelFor(model, other), await hiresCheckpointModel(model, other)]) {
      assert.ok(companion);
      assert.deepEqual(companion.vae, model.vae);
      assert.equal(maxDiff(await companion.decode(latent()), expected), 0);
    }
  } finally {
    model.useVae(null);
    await releaseRefiner(model);
    await releaseHiresModel(model);
  }
});
