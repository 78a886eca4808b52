/**
 * The ControlNet graph and the controlled UNet against lllyasviel's cldm.py ControlNet / ControlledUnetModel
 * (fixtures/controlnet/reference.safetensors): every residual, the guided hint, UNet outputs with control at two
 * weights, soft injection, and the CFG batch in all three control modes and with two units summed.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { detectControlNet } from '../src/checkpoint/detect-controlnet.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { ControlNet } from '../src/models/controlnet.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { Graph } from '../src/onnx/graph.ts';
import { addResiduals, type ControlMode, controlScales, scaleResiduals } from '../src/pipeline/control.ts';
import { ControlNetModel } from '../src/pipeline/controlnet-model.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { OrtSession } from '../src/runtime/ort.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD15 } from './helpers/tiny-configs.ts';

const skip = needFixture('controlnet', 'reference.safetensors') || needFixture('tiny-sd15', 'reference.safetensors');
let ref: SafetensorsFile;
let sdRef: SafetensorsFile;
let controlnet: ControlNetModel;
let unet: OrtSession;
let controlled: OrtSession;

const read = (file: SafetensorsFile, key: string) => new Tensor(file.info(key).shape, file.readFloat32(key));
const r = (key: string) => read(ref, key);
const maxAbs = (t: Tensor) => t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** Fixture README: fp32 re-implementation within ~1e-4 × max |value|. */
const check = (actual: Tensor, expected: Tensor, label: string) => {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  assertCloseTensor(actual.data, expected.data, { atol: 1e-4 * maxAbs(expected), label });
};

before(async () => {
  if (skip) return;
  ref = SafetensorsFile.open(fixturePath('controlnet', 'reference.safetensors'));
  sdRef = SafetensorsFile.open(fixturePath('tiny-sd15', 'reference.safetensors'));
  controlnet = ControlNetModel.open(fixturePath('controlnet', 'tiny-controlnet.safetensors'));
  const model = SafetensorsFile.open(fixturePath('tiny-sd15', 'model.safetensors'));
  unet = await compileGraph(buildUNetGraph(TINY_SD15.unet), model);
  controlled = await compileGraph(buildUNetGraph(TINY_SD15.unet, { control: true }), model);
});

const runUnet = async (session: OrtSession, x: Tensor, t: number[], context: Tensor, control: Tensor[] | null) => {
  const feeds: Record<string, Tensor> = { x, timesteps: new Tensor([t.length], Float32Array.from(t)), context };
  control?.forEach((c, i) => {
    feeds[`control_${i}`] = c;
  });
  return (await session.run(feeds)).out;
};

test('the tiny ControlNet architecture is inferred from shapes (5 residuals, hint 3 channels, 2 heads)', { skip }, () => {
  const { config } = detectControlNet(SafetensorsFile.open(fixturePath('controlnet', 'tiny-controlnet.safetensors')));
  assert.deepEqual(config.unet, { ...TINY_SD15.unet, transformer_depth: [0, 1] });
  assert.equal(config.hint_channels, 3);
  assert.equal(config.global_average_pooling, false);
  assert.equal(controlnet.residualCount, 5);
});

test('input_hint_block(hint) matches guided_hint', { skip }, async () => {
  const graph = new Graph('hint');
  const model = new ControlNet(controlnet.config).bindNames('');
  graph.output(model.input_hint_block.forward(graph.input('hint', [1, 3, 64, 64])), 'out');
  const file = SafetensorsFile.open(fixturePath('controlnet', 'tiny-controlnet.safetensors'));
  const session = await compileGraph(graph, file, { keyOf: detectControlNet(file).keyOf });
  check((await session.run({ hint: r('hint.image') })).out, r('guided_hint'), 'guided_hint');
});

test('every ControlNet residual matches cldm.py', { skip }, async () => {
  const residuals = await controlnet.run(r('in.x'), r('hint.image'), [500], r('in.context'), null);
  assert.equal(residuals.length, 5);
  residuals.forEach((res, i) => check(res, r(`control.${i}`), `control.${i}`));
});

test('the controlled UNet: no control, weight 1.0 / 0.6, soft injection, middle only', { skip }, async () => {
  const residuals = await controlnet.run(r('in.x'), r('hint.image'), [500], r('in.context'), null);
  const zeros = residuals.map((c) => Tensor.zeros(c.shape));
  check(await runUnet(unet, r('in.x'), [500], r('in.context'), null), r('unet.out.no_control'), 'plain UNet');
  check(await runUnet(controlled, r('in.x'), [500], r('in.context'), zeros), r('unet.out.no_control'), 'controlled UNet, zero residuals');
  for (const [w, key] of [[1, 'weight_1_0'], [0.6, 'weight_0_6']] as const) {
    const scaled = scaleResiduals(residuals, controlScales({ weight: w, controlMode: 'Balanced' }, 5), { condRows: 1, condOnly: false });
    check(await runUnet(controlled, r('in.x'), [500], r('in.context'), scaled), r(`unet.out.${key}`), `weight ${w}`);
  }
  const soft = controlScales({ weight: 1, controlMode: 'My prompt is more important' }, 5);
  assertCloseTensor(soft, r('soft_scales.weight_1_0').data, { atol: 1e-6, label: 'soft scales' });
  check(await runUnet(controlled, r('in.x'), [500], r('in.context'), scaleResiduals(residuals, soft, { condRows: 1, condOnly: false })), r('unet.out.soft_weight_1_0'), 'soft injection');
  check(await runUnet(controlled, r('in.x'), [500], r('in.context'), [...zeros.slice(0, 4), residuals[4]]), r('unet.out.mid_only_weight_1_0'), 'middle only');
});

/** The CFG batch A1111 builds: [cond; uncond] rows, uncond context = the empty prompt (tiny-sd15 row 3). */
async function cfgBatch(units: { hint: Tensor; weight: number; mode: ControlMode }[]): Promise<Tensor> {
  const x = Tensor.cat([r('in.x'), r('in.x')]);
  const text = read(sdRef, 'text.last_hidden_state');
  const context = new Tensor([2, 77, 32], Float32Array.from([...r('in.context').data, ...text.data.subarray(3 * 77 * 32, 4 * 77 * 32)]));
  let total: Tensor[] | null = null;
  for (const unit of units) {
    const raw = await controlnet.run(x, unit.hint, [500, 500], context, null);
    const scales = controlScales({ weight: unit.weight, controlMode: unit.mode }, raw.length);
    total = addResiduals(total, scaleResiduals(raw, scales, { condRows: 1, condOnly: unit.mode === 'ControlNet is more important' }));
  }
  return runUnet(total ? controlled : unet, x, [500, 500], context, total);
}

test('CFG batch in the three control modes and with two units summed', { skip }, async () => {
  const hint = r('hint.image');
  check(await cfgBatch([]), r('cfg.out.no_control'), 'cfg no control');
  check(await cfgBatch([{ hint, weight: 1, mode: 'Balanced' }]), r('cfg.out.balanced_w1_0'), 'cfg Balanced');
  check(await cfgBatch([{ hint, weight: 1, mode: 'My prompt is more important' }]), r('cfg.out.my_prompt_w1_0'), 'cfg My prompt');
  const important = await cfgBatch([{ hint, weight: 1, mode: 'ControlNet is more important' }]);
  check(important, r('cfg.out.controlnet_w1_0'), 'cfg ControlNet is more important');
  assertCloseTensor(important.get(1).data, r('cfg.out.no_control').get(1).data, { atol: 1e-5, label: 'uncond row untouched' });
  const inverted = hint.map((v) => Math.fround((255 - Math.round(v * 255)) / 255));
  check(await cfgBatch([{ hint, weight: 1, mode: 'Balanced' }, { hint: inverted, weight: 0.5, mode: 'Balanced' }]), r('cfg.out.two_units'), 'cfg two units');
});
