/**
 * `npm run bench`: full-size SD1.5 on this machine, with a seeded random-weight checkpoint the project writes
 * itself (cached under bench-results/). Prints session-creation time, time per UNet step (CFG batch of 2 at
 * 512×512), VAE decode time, the whole 512×512 txt2img, and the peak resident memory. Times are also given as a
 * ratio to a float32 GEMM measured in the same run (the machines are noisy; ratios travel better than seconds).
 * Then the cost of a LoRA: a first and a repeated 1-step request with a new one, against one UNet step (bench-lora.ts).
 *
 *   npm run bench                 # 20 steps
 *   npm run bench -- --steps 4    # quicker
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultTxt2ImgParams, SD15_CONFIG, StableDiffusion, writeRandomCheckpoint } from '@sdapi/engine';
import { benchLora } from './bench-lora.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '20' }, dir: { type: 'string', default: 'bench-results' } } });
const steps = Number(values.steps);
const dir = values.dir as string;
mkdirSync(dir, { recursive: true });

/** Peak resident set size of this process so far (the kernel's high-water mark, not a sample). */
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;
const time = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
};

/** Reference work: one 256×256×256 float32 GEMM in plain JS (a fixed, machine-local yardstick). */
function gemmSeconds(): number {
  const n = 256;
  const a = new Float32Array(n * n).fill(1.001);
  const b = new Float32Array(n * n).fill(0.999);
  const c = new Float32Array(n * n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) {
    const aik = a[i * n + k];
    for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
  }
  return (performance.now() - t0) / 1000;
}

const ckpt = join(dir, 'sd15-random-f16.safetensors');
if (!existsSync(ckpt)) {
  console.log(`writing ${ckpt} (full-size SD1.5, random weights, F16)…`);
  const [, s] = await time(async () => writeRandomCheckpoint(ckpt, SD15_CONFIG, 1, { dtype: 'F16' }));
  console.log(`  written in ${s.toFixed(1)} s`);
}
const yardstick = gemmSeconds();
const sd = StableDiffusion.open(ckpt, { cacheDir: join(dir, 'onnx-cache') });
const [, compile] = await time(() => sd.warmUp());
console.log(`sessions (CLIP + UNet + VAE decoder) created in ${compile.toFixed(1)} s, peak RSS so far ${gib(peakRss())}`);

const stepTimes: number[] = [];
let last = performance.now();
const params = defaultTxt2ImgParams({ prompt: 'a photograph of an astronaut riding a horse', seed: 1, steps, samplerName: 'Euler a', width: 512, height: 512 });
const [, total] = await time(() => sd.txt2img(params, { onProgress: ({ samplingStep }) => {
  const now = performance.now();
  if (samplingStep > 0) stepTimes.push((now - last) / 1000);
  last = now;
} }));
stepTimes.sort((a, b) => a - b);
const median = stepTimes[Math.floor(stepTimes.length / 2)];
console.log(`512×512 txt2img, ${steps} steps Euler a, CFG batch 2: ${total.toFixed(1)} s`);
console.log(`  UNet step (median of ${stepTimes.length}): ${median.toFixed(2)} s = ${(median / yardstick).toFixed(0)}× the JS GEMM yardstick (${(yardstick * 1000).toFixed(0)} ms)`);
console.log(`  peak RSS ${gib(peakRss())}`);
await benchLora(sd, ckpt, dir, median);
console.log(`  peak RSS ${gib(peakRss())}`);
await sd.release();
