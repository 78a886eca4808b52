/**
 * img2img options over real HTTP on the tiny SD1.5 engine: `img2img_color_correction` (spec §3.2) pulls the
 * result's colours towards the init image's and changes nothing else in the request; the default leaves it off.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodePng, encodePng } from '@sdapi/engine';
import { needFiles, startTinyEngineServer, type TinyEngineServer } from './helpers/tiny-engine.ts';

const skip = needFiles();
if (skip) console.log(`# skipping the img2img options e2e tests: ${skip}`);

let server: TinyEngineServer;
before(async () => {
  if (!skip) server = await startTinyEngineServer('img2img-options');
});
after(async () => server?.close());

/** A strongly coloured init image (the tiny model's output is greyish noise, so a correction has far to move). */
function init(w: number, h: number): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let p = 0; p < w * h; p++) rgb.set([200 + (p % 40), 40 + (p % 30), 30 + ((p * 7) % 50)], p * 3);
  return rgb;
}

/** The img2img request every test here sends (a 64² init image, 3 Euler steps), with `extra` fields on top. */
function img2imgBody(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    init_images: [encodePng(init(64, 64), 64, 64).toString('base64')],
    prompt: 'a red wall',
    steps: 3,
    width: 64,
    height: 64,
    seed: 5,
    sampler_name: 'Euler',
    denoising_strength: 0.9,
    ...extra,
  };
}

async function img2img(extra: Record<string, unknown>): Promise<{ rgb: Uint8Array; images: string[]; info: { infotexts: string[] } }> {
  const body = img2imgBody(extra);
  const res = await fetch(`${server.base}/sdapi/v1/img2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { images: string[]; info: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  return { rgb: decodePng(Buffer.from(json.images[0], 'base64')).rgb, images: json.images, info: JSON.parse(json.info) };
}

const meanOf = (rgb: Uint8Array, c: number) => {
  let s = 0;
  for (let i = c; i < rgb.length; i += 3) s += rgb[i];
  return s / (rgb.length / 3);
};

test('img2img_color_correction moves the mean colour towards the init image; off by default', { skip }, async () => {
  const reference = init(64, 64);
  const plain = await img2img({});
  const corrected = await img2img({ override_settings: { img2img_color_correction: true } });
  let before = 0;
  let after = 0;
  for (let c = 0; c < 3; c++) {
    before += Math.abs(meanOf(plain.rgb, c) - meanOf(reference, c));
    after += Math.abs(meanOf(corrected.rgb, c) - meanOf(reference, c));
  }
  console.log(`# summed |mean colour − init mean| per channel: ${before.toFixed(1)} without, ${after.toFixed(1)} with colour correction`);
  assert.ok(after < before * 0.6, `${before} → ${after}`);
  const options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { img2img_color_correction: boolean };
  assert.equal(options.img2img_color_correction, false, 'the override was restored');
  const again = await img2img({});
  assert.deepEqual(again.rgb, plain.rgb, 'without the option the result is as before');
});

test('tiling: true runs the circular-padding model (infotext Tiling: True, other pixels); option tiling is the default', { skip }, async () => {
  const txt2img = async (extra: Record<string, unknown>) => {
    const res = await fetch(`${server.base}/sdapi/v1/txt2img`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a pattern', steps: 2, width: 64, height: 64, seed: 4, sampler_name: 'Euler', ...extra }),
    });
    const json = (await res.json()) as { images: string[]; info: string };
    assert.equal(res.status, 200, JSON.stringify(json));
    return { rgb: decodePng(Buffer.from(json.images[0], 'base64')).rgb, infotext: (JSON.parse(json.info) as { infotexts: string[] }).infotexts[0] };
  };
  const plain = await txt2img({});
  const tiled = await txt2img({ tiling: true });
  assert.doesNotMatch(plain.infotext, /Tiling/);
  assert.match(tiled.infotext, /, Tiling: True, /);
  assert.notDeepEqual(tiled.rgb, plain.rgb);
  const byOption = await txt2img({ override_settings: { tiling: true } });
  assert.deepEqual(byOption.rgb, tiled.rgb);
  assert.deepEqual((await txt2img({ tiling: false, override_settings: { tiling: true } })).rgb, plain.rgb, 'the request field wins');
});

test('return_mask / return_mask_composite: the mask and the composite follow the inpainted image; infotexts stay one per image', { skip }, async () => {
  const mask = new Uint8Array(64 * 64 * 3);
  for (let y = 16; y < 48; y++) for (let x = 8; x < 40; x++) mask.fill(255, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  const inpaint = { mask: encodePng(mask, 64, 64).toString('base64'), mask_blur: 0, inpaint_full_res: false, inpainting_fill: 1 };
  const plain = await img2img(inpaint);
  assert.equal(plain.images.length, 1);
  const res = await img2img({ ...inpaint, override_settings: { return_mask: true, return_mask_composite: true } });
  assert.equal(res.images.length, 3);
  assert.equal(res.info.infotexts.length, 1);
  const [image, returnedMask, composite] = res.images.map((b64) => decodePng(Buffer.from(b64, 'base64')).rgb);
  assert.deepEqual(image, plain.rgb, 'the image itself is unchanged by the options');
  assert.deepEqual(returnedMask, mask, 'mask_for_overlay of a sharp whole-picture mask is the mask');
  let inside = 0;
  for (let p = 0; p < 64 * 64; p++) {
    const masked = mask[p * 3] === 255;
    for (let c = 0; c < 3; c++) {
      const expected = masked ? image[p * 3 + c] : 0;
      assert.equal(composite[p * 3 + c], expected, `pixel ${p} channel ${c}`);
    }
    if (masked) inside++;
  }
  assert.equal(inside, 32 * 32);

  // v2 jobs (issue 6): the same three images in the same order in `result.images`, same pixels as the sync route.
  const body = img2imgBody({ ...inpaint, override_settings: { return_mask: true, return_mask_composite: true } });
  const created = await fetch(`${server.base}/sdapi/v2/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'img2img', params: body }),
  });
  const { id } = (await created.json()) as { id: string };
  assert.equal(created.status, 202);
  let job: { status: string; result: { images: { url: string; infotext: string }[] } | null } = { status: 'queued', result: null };
  for (let i = 0; i < 600 && job.status !== 'succeeded' && job.status !== 'failed'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as typeof job;
  }
  assert.equal(job.status, 'succeeded', JSON.stringify(job));
  assert.equal(job.result?.images.length, 3);
  const v2 = await Promise.all(
    (job.result?.images ?? []).map(async (img) => decodePng(Buffer.from(await (await fetch(`${server.base}${img.url}`)).arrayBuffer())).rgb),
  );
  assert.deepEqual(v2[0], image, 'the v2 image is the sync one');
  assert.deepEqual(v2[1], returnedMask, 'the v2 mask is the sync one');
  assert.deepEqual(v2[2], composite, 'the v2 composite is the sync one');
});
