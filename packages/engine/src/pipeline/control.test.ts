/** ControlNet hook math: A1111's step clock for guidance start/end, scale lists, cond-row masking, unit sums. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../tensor.ts';
import { addResiduals, ControlHook, type ControlUnit, controlScales, scaleResiduals, unitActive } from './control.ts';
import type { ControlNetModel } from './controlnet-model.ts';

/** A stand-in ControlNet that records on which evaluations it ran and returns ones. */
function fakeModel(calls: number[], clock: () => number): ControlNetModel {
  return {
    config: { unet: { in_channels: 4 }, global_average_pooling: false },
    run: async (x: Tensor) => {
      calls.push(clock());
      return [Tensor.full([x.shape[0], 1, 1, 1], 1)];
    },
  } as unknown as ControlNetModel;
}

test('guidance 0.2–0.6 over 10 steps is active in evaluations 3–7 (A1111 sees sampling_step = max(i − 1, 0))', async () => {
  const calls: number[] = [];
  let evaluation = 0;
  const unit: ControlUnit = {
    model: fakeModel(calls, () => evaluation),
    hint: Tensor.zeros([1, 3, 8, 8]),
    weight: 0.5,
    guidanceStart: 0.2,
    guidanceEnd: 0.6,
    controlMode: 'Balanced',
  };
  const hook = new ControlHook([unit], 10);
  const x = Tensor.zeros([2, 4, 1, 1]);
  for (evaluation = 0; evaluation < 10; evaluation++) {
    await hook.residuals(x, [1, 1], Tensor.zeros([2, 1, 1]), null, 1);
    hook.onStep(evaluation); // the sampler callback after step i's evaluation
  }
  assert.deepEqual(calls, [3, 4, 5, 6, 7]);
  assert.equal(unitActive({ guidanceStart: 0, guidanceEnd: 0.85 }, 8, 10), unitActive({ guidanceStart: 0, guidanceEnd: 1 }, 8, 10));
  assert.equal(unitActive({ guidanceStart: 0.5, guidanceEnd: 1 }, 4, 10), false);
  assert.equal(unitActive({ guidanceStart: 0.5, guidanceEnd: 1 }, 5, 10), true, 'bounds are inclusive');
});

test('scale lists: Balanced = weight; soft = w·0.825^(12 − i), the 13-list truncated (SDXL middle 0.825³·w); advanced weighting replaces', () => {
  assert.deepEqual(controlScales({ weight: 0.7, controlMode: 'Balanced' }, 13), Array(13).fill(0.7));
  const soft = controlScales({ weight: 2, controlMode: 'ControlNet is more important' }, 10);
  assert.equal(soft.length, 10);
  assert.ok(Math.abs(soft[9] - 2 * 0.825 ** 3) < 1e-12);
  assert.ok(Math.abs(controlScales({ weight: 1, controlMode: 'My prompt is more important' }, 13)[12] - 1) < 1e-12);
  assert.deepEqual(controlScales({ weight: 1, controlMode: 'Balanced', advancedWeighting: [0, 1, 2, 3] }, 3), [0, 1, 2]);
  assert.throws(() => controlScales({ weight: 1, controlMode: 'Balanced', advancedWeighting: [1] }, 3), /advanced_weighting has 1 entries/);
});

test('cond-only residuals zero the uncond rows; global average pooling takes the spatial mean; units add up', () => {
  const r = new Tensor([2, 1, 2, 2], Float32Array.from([1, 2, 3, 6, 5, 5, 5, 5]));
  assert.deepEqual(Array.from(scaleResiduals([r], [2], { condRows: 1, condOnly: true })[0].data), [2, 4, 6, 12, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(scaleResiduals([r], [1], { condRows: 1, condOnly: false, globalAveragePooling: true })[0].data), [3, 3, 3, 3, 5, 5, 5, 5]);
  const sum = addResiduals(addResiduals(null, [r]), [r]);
  assert.deepEqual(Array.from(sum[0].data), [2, 4, 6, 12, 10, 10, 10, 10]);
  assert.throws(() => addResiduals([r], [r, r]), /different base architectures/);
});

test('effective_region_mask: bilinear like torch (align_corners=False) and multiplied into every residual', async () => {
  const { resizeBilinear } = await import('./control.ts');
  const up = resizeBilinear({ width: 2, height: 2, data: Float32Array.from([0, 1, 2, 3]) }, 4, 4);
  assert.deepEqual(Array.from(up), [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3]);
  const calls: number[] = [];
  const regionMask = { width: 4, height: 1, data: Float32Array.from([0, 0, 1, 1]) };
  const model = {
    config: { unet: { in_channels: 4 }, global_average_pooling: false },
    run: async () => {
      calls.push(1);
      return [Tensor.full([1, 1, 2, 4], 2)];
    },
  } as unknown as ControlNetModel;
  const hook = new ControlHook(
    [{ model, hint: Tensor.zeros([1, 3, 8, 8]), weight: 1, guidanceStart: 0, guidanceEnd: 1, controlMode: 'Balanced', regionMask }],
    1,
  );
  const [res] = (await hook.residuals(Tensor.zeros([1, 4, 2, 4]), [1], Tensor.zeros([1, 1, 1]), null, 1)) ?? [];
  assert.deepEqual(Array.from(res.data), [0, 0, 2, 2, 0, 0, 2, 2]);
});
