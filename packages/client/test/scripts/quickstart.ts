/**
 * A user's script, as in the README: `npx tsx quickstart.ts http://127.0.0.1:7860 [out.png]`.
 * Runs against sdapi or AUTOMATIC1111 alike; scripts.test.ts runs it against an in-process server.
 */
import { writeFileSync } from 'node:fs';
import { APIError, decodeImage, parseInfo, SDClient } from '@sdapi/client';

const baseURL = process.argv[2] ?? 'http://127.0.0.1:7860';
const sd = new SDClient({ baseURL });

const { images, info } = await sd.txt2img({ prompt: 'a lighthouse at dusk', seed: 9, steps: 3, width: 64, height: 64, sampler_name: 'Euler a' });
const png = decodeImage(images?.[0] ?? '');
if (process.argv[3]) writeFileSync(process.argv[3], png);
console.log(`txt2img: ${images?.length} image(s), seed ${parseInfo(info).seed}, ${png.length} bytes`);

const models = await sd.sdModels.list();
console.log(`sdModels: ${models.map((m) => m.title).join(', ')}`);
const samplers = await sd.samplers.list();
console.log(`samplers: ${samplers.length} (${samplers[0].name}, …)`);

const options = await sd.options.retrieve();
console.log(`options: CLIP skip ${options.CLIP_stop_at_last_layers}`);
await sd.options.update({ CLIP_stop_at_last_layers: 2 });
console.log(`options.update: CLIP skip now ${(await sd.options.retrieve()).CLIP_stop_at_last_layers}`);

const progress = await sd.progress.retrieve();
console.log(`progress: ${progress.progress} (jobs ${progress.state.job_count})`);

const pngInfo = await sd.pngInfoFrom(png);
console.log(`pngInfo: ${pngInfo.info.split('\n').at(-1)}`);

try {
  await sd.txt2img({ sampler_name: 'no such sampler' });
} catch (error) {
  if (!(error instanceof APIError) || error.status !== 422) throw error;
  console.log(`caught APIError ${error.status}: ${error.message}`);
}
