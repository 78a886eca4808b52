/**
 * The LoRA part of `npm run bench`: a seeded random kohya-style LoRA (rank 32, alpha 16) over every attention,
 * feed-forward and proj layer of the UNet and every CLIP attention/MLP projection (what kohya's `networks.lora`
 * targets; UNet modules use the compvis names kohya writes for SDXL), then 1-step txt2img requests: without it,
 * with it for the first time (file read + merge + feeding the merged weights to the existing sessions), and with
 * it again (merge cache). The LoRA's cost is the difference to the request without it. Then the same for a LoCon
 * that also patches every ResBlock 3×3 conv, whose first use compiles the UNet's `+spatial` session variant.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTxt2ImgParams, LoraCatalog, SafetensorsFile, type StableDiffusion } from '@sdapi/engine';
import { float32Bytes, type TensorToWrite, writeSafetensors } from '../packages/engine/src/checkpoint/safetensors.ts';

const RANK = 32;
const UNET = /^model\.diffusion_model\.(.+\.(attn[12]\.to_(q|k|v|out\.0)|ff\.net\.(0\.proj|2)|proj_in|proj_out))\.weight$/;
const RESBLOCK_CONV = /^model\.diffusion_model\.(.+\.(in_layers\.2|out_layers\.3))\.weight$/;
const TEXT = /^cond_stage_model\.transformer\.text_model\.(encoder\.layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12]))\.weight$/;

/** kohya module name for a checkpoint weight, or null when kohya's LoRA (or LoCon, with `convs`) does not target it. */
function moduleName(key: string, convs: boolean): string | null {
  const unet = UNET.exec(key) ?? (convs ? RESBLOCK_CONV.exec(key) : null);
  if (unet) return `lora_unet_${unet[1].replaceAll('.', '_')}`;
  const text = TEXT.exec(key);
  return text ? `lora_te_text_model_${text[1].replaceAll('.', '_')}` : null;
}

/** Writes the LoRA (F32 safetensors) with small seeded values; returns its module count. */
function writeRandomLora(ckpt: string, path: string, convs: boolean): number {
  const file = SafetensorsFile.open(ckpt);
  const tensors = new Map<string, TensorToWrite>();
  const f32 = (shape: number[], data: Float32Array): TensorToWrite => ({ dtype: 'F32', shape, data: float32Bytes(data) });
  let seed = 1;
  const random = (n: number, scale: number) => Float32Array.from({ length: n }, () => Math.fround(Math.sin((seed += 1) * 12.9898) * scale));
  for (const key of file.keys()) {
    const name = moduleName(key, convs);
    if (!name) continue;
    const [out, inDim, ...kernel] = file.info(key).shape;
    const size = kernel.reduce((a, b) => a * b, 1);
    // LoCon: a k×k down conv and a 1×1 up conv, as kohya writes them.
    tensors.set(`${name}.lora_down.weight`, f32([RANK, inDim, ...kernel], random(RANK * inDim * size, 0.05)));
    tensors.set(`${name}.lora_up.weight`, f32([out, RANK, ...kernel.map(() => 1)], random(out * RANK, 0.05)));
    tensors.set(`${name}.alpha`, f32([], Float32Array.of(16)));
  }
  file.close();
  writeSafetensors(path, tensors, { ss_output_name: 'benchLora' });
  return tensors.size / 3;
}

/** Runs the requests and returns their times next to one UNet step (`unetStep` seconds, measured by the caller). */
export async function benchLora(sd: StableDiffusion, ckpt: string, dir: string, unetStep: number): Promise<string[]> {
  mkdirSync(join(dir, 'lora'), { recursive: true });
  for (const [name, convs] of [
    ['benchLora', false],
    ['benchLoCon', true],
  ] as const) {
    const path = join(dir, 'lora', `${name}.safetensors`);
    if (!existsSync(path)) console.log(`wrote ${path}: ${writeRandomLora(ckpt, path, convs)} modules, rank ${RANK}`);
  }
  sd.loras = new LoraCatalog({ dirs: [join(dir, 'lora')] });
  const request = async (tag: string) => {
    const t0 = performance.now();
    const result = await sd.txt2img(
      defaultTxt2ImgParams({ prompt: `a photograph of an astronaut riding a horse ${tag}`, seed: 1, steps: 1, samplerName: 'Euler', width: 512, height: 512 }),
    );
    if (result.warnings?.length) console.log(`  warnings: ${result.warnings.join('; ')}`);
    return (performance.now() - t0) / 1000;
  };
  const fmt = (s: number) => `${s.toFixed(2)} s (${(s / unetStep).toFixed(2)} UNet steps)`;
  const lines = [`LoRA cost per 1-step 512×512 request (one UNet step = ${unetStep.toFixed(2)} s):`];
  for (const name of ['benchLora', 'benchLoCon']) {
    const plain = Math.min(await request(''), await request('')); // the first request after others runs cold
    const first = await request(`<lora:${name}:0.8>`);
    const again = await request(`<lora:${name}:0.8>`);
    const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
    lines.push(`${name}: without ${plain.toFixed(2)} s; first use ${fmt(first - plain)} more; again ${fmt(again - plain)} more; RSS after ${rss} MiB`);
  }
  return lines;
}
