/**
 * The SD2 (v-prediction, linear proj_in, 32-channel heads) and SDXL (per-level transformer depth, label_emb on
 * `y`) UNets against the genuine ldm / sgm outputs of tiny-sd2v and tiny-sdxl, plus the k-diffusion
 * CompVisVDenoiser round trip to ldm's `predict_start_from_z_and_v`.
 */
import { before, test } from 'node:test';
import type { ModelConfig } from '../src/checkpoint/config.ts';
import { SafetensorsFile } from '../src/checkpoint/safetensors.ts';
import { buildUNetGraph } from '../src/models/unet-model.ts';
import { compileGraph } from '../src/runtime/compile.ts';
import type { OrtSession } from '../src/runtime/ort.ts';
import { compVisDenoiser, compVisTimestepsModel } from '../src/sampling/denoiser.ts';
import { alphasCumprodLinear, DiscreteSchedule } from '../src/sampling/discrete-schedule.ts';
import { Tensor } from '../src/tensor.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';
import { TINY_SD2V, TINY_SDXL } from './helpers/tiny-configs.ts';

const skipSd2 = needFixture('tiny-sd2v', 'reference.safetensors');
const skipXl = needFixture('tiny-sdxl', 'reference.safetensors');
const refs: Record<string, SafetensorsFile> = {};
const sessions: Record<string, OrtSession> = {};

async function load(fixture: string, config: ModelConfig): Promise<void> {
  refs[fixture] = SafetensorsFile.open(fixturePath(fixture, 'reference.safetensors'));
  const graph = buildUNetGraph(config.unet);
  sessions[fixture] = await compileGraph(graph, SafetensorsFile.open(fixturePath(fixture, 'model.safetensors')));
  sessions[`${fixture}/fp16`] = await compileGraph(graph, SafetensorsFile.open(fixturePath(fixture, 'model.fp16.safetensors')));
}

before(async () => {
  if (!skipSd2) await load('tiny-sd2v', TINY_SD2V);
  if (!skipXl) await load('tiny-sdxl', TINY_SDXL);
});

const read = (fixture: string, key: string) => new Tensor(refs[fixture].info(key).shape, refs[fixture].readFloat32(key));
const rows = (t: Tensor, from: number, to: number) => new Tensor([to - from, ...t.shape.slice(1)], t.data.slice((from * t.size) / t.shape[0], (to * t.size) / t.shape[0]));

/** Reference tolerance: 1e-4 of the output's magnitude, float32 on ORT CPU. */
function close(actual: Tensor, expected: Tensor, label: string, rel = 1e-4): void {
  const scale = Math.max(...expected.data.map(Math.abs));
  assertCloseTensor(actual.data, expected.data, { atol: rel * scale, label });
}

async function unet(fixture: string, feeds: Record<string, Tensor>): Promise<Tensor> {
  return (await sessions[fixture].run(feeds)).out;
}

const prompt0 = () => rows(read('tiny-sd2v', 'text.penultimate_ln_final'), 0, 1);

for (const t of ['t999', 't500', 't1', 't123_456']) {
  test(`SD2 UNet v at ${t} (context: penultimate_ln_final of prompt 0)`, { skip: skipSd2 }, async () => {
    const f = 'tiny-sd2v';
    const out = await unet(f, { x: read(f, 'unet.x'), timesteps: read(f, `unet.${t}.timesteps`), context: prompt0() });
    close(out, read(f, `unet.${t}.out_v`), `sd2 v ${t}`);
  });
}

for (const name of ['cfg_t999', 'cfg_t500']) {
  test(`SD2 UNet CFG batch [cond; uncond]: ${name}`, { skip: skipSd2 }, async () => {
    const f = 'tiny-sd2v';
    const p = `unet.${name}`;
    const out = await unet(f, { x: read(f, `${p}.x`), timesteps: read(f, `${p}.timesteps`), context: read(f, `${p}.context`) });
    close(out, read(f, `${p}.out_v`), `sd2 ${name}`);
  });
}

test('SD2 v → x0 / eps: CompVisVDenoiser and CompVisTimestepsVDenoiser at t=500 equal ldm predict_*_from_z_and_v', { skip: skipSd2 }, async () => {
  const f = 'tiny-sd2v';
  const ac = alphasCumprodLinear();
  const schedule = DiscreteSchedule.fromAlphasCumprod(ac);
  const unetFn = (xIn: Tensor, t: readonly number[]) => unet(f, { x: xIn, timesteps: new Tensor([t.length], Float32Array.from(t)), context: prompt0() });
  // k-diffusion's x_σ = x_ddpm / sqrt(ᾱ), so that c_in·x_σ is the ldm input and the UNet sees t = 500.
  const x = read(f, 'unet.x');
  const denoised = await compVisDenoiser(unetFn, schedule, 'v')(x.div(Math.sqrt(ac[500])), schedule.sigmas[500]);
  close(denoised, read(f, 'vconv.t500.pred_x0'), 'pred_x0 via CompVisVDenoiser', 2e-4);
  const eps = await compVisTimestepsModel(unetFn, ac, 'v')(x, 500);
  close(eps, read(f, 'vconv.t500.pred_eps'), 'pred_eps via CompVisTimestepsVDenoiser', 2e-4);
});

test('SD2 UNet from fp16 weights stays within fp16 rounding of the fp32 reference', { skip: skipSd2 }, async () => {
  const f = 'tiny-sd2v';
  const out = (await sessions[`${f}/fp16`].run({ x: read(f, 'unet.x'), timesteps: read(f, 'unet.t500.timesteps'), context: prompt0() })).out;
  close(out, read(f, 'unet.t500.out_v'), 'sd2 fp16 weights t500 (vs fp32 reference)', 1e-2);
});

const condA0 = (key: 'crossattn' | 'vector') => rows(read('tiny-sdxl', `cond.A.${key}`), 0, 1);

for (const t of ['t999', 't500', 't1', 't123_456']) {
  test(`SDXL UNet eps at ${t} (context/y: cond.A row 0)`, { skip: skipXl }, async () => {
    const f = 'tiny-sdxl';
    const out = await unet(f, { x: read(f, 'unet.x'), timesteps: read(f, `unet.${t}.timesteps`), context: condA0('crossattn'), y: condA0('vector') });
    close(out, read(f, `unet.${t}.out`), `sdxl ${t}`);
  });
}

for (const name of ['cfg_t999', 'cfg_t500']) {
  test(`SDXL UNet CFG batch [cond A; neg_zero]: ${name}`, { skip: skipXl }, async () => {
    const f = 'tiny-sdxl';
    const p = `unet.${name}`;
    const out = await unet(f, { x: read(f, `${p}.x`), timesteps: read(f, `${p}.timesteps`), context: read(f, `${p}.context`), y: read(f, `${p}.y`) });
    close(out, read(f, `${p}.out`), `sdxl ${name}`);
  });
}

test('SDXL UNet with size/crop conditioning B (832×1216, crop 16,48, target 896×1152)', { skip: skipXl }, async () => {
  const f = 'tiny-sdxl';
  const out = await unet(f, { x: read(f, 'unet.x'), timesteps: new Tensor([1], new Float32Array([500])), context: read(f, 'cond.B.crossattn'), y: read(f, 'cond.B.vector') });
  close(out, read(f, 'unet.B.out'), 'sdxl cond B');
});

test('SDXL UNet from fp16 weights stays within fp16 rounding of the fp32 reference', { skip: skipXl }, async () => {
  const f = 'tiny-sdxl';
  const out = (await sessions[`${f}/fp16`].run({ x: read(f, 'unet.x'), timesteps: read(f, 'unet.t500.timesteps'), context: condA0('crossattn'), y: condA0('vector') })).out;
  close(out, read(f, 'unet.t500.out'), 'sdxl fp16 weights t500 (vs fp32 reference)', 1e-2);
});
