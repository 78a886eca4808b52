/**
 * The page in a real browser: headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) on the page
 * built from this checkout by Vite and served by the server, on the real engine with the tiny SD1.5 fixture.
 * Each flow saves a screenshot under packages/web/test-results/ (git-ignored) to look at.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import type { Job } from '@sdapi/client';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { needFiles, startTinyEngineServer, TINY_SD15_CKPT, type TinyEngineServer } from '../../server/test/helpers/tiny-engine.ts';

// Browser globals used inside page.evaluate (the repository's tsconfig has no DOM lib).
declare const document: any;
declare const window: any;
declare function createImageBitmap(source: unknown): Promise<any>;
declare function getComputedStyle(el: any): any;
declare class Image {
  src: string;
  decode(): Promise<void>;
}
declare class OffscreenCanvas {
  constructor(w: number, h: number);
  getContext(kind: '2d'): any;
}
declare class ClipboardEvent {
  constructor(type: string, init: { clipboardData: unknown; bubbles: boolean });
}
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare class DataTransfer {
  items: { add(file: File): void };
}

const CHROMIUM = '/usr/bin/chromium';
const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHOTS = join(WEB, 'test-results');
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (apt-get install chromium)` : needFiles();
if (skip) console.log(`# skipping the page's browser tests: ${skip}`);

let browser: Browser;
let dist: string;

/** Console errors and uncaught exceptions of a page; `allow` lists what a flow expects (e.g. its own 422). */
function watch(page: Page) {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text().slice(0, 300));
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return {
    errors,
    assertClean(allow: RegExp[] = []) {
      const bad = errors.filter((e) => !allow.some((a) => a.test(e)));
      errors.length = 0; // one flow's errors are reported once, not again by every later flow
      assert.deepEqual(bad, [], 'no console errors');
    },
  };
}

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/**
 * WCAG 2 contrast ratios of text against the first opaque background behind it, for each selector present on the
 * page (a string: tsx would wrap the inner functions in a helper the page does not have).
 */
async function contrasts(page: Page, selectors: string[]): Promise<Record<string, number>> {
  return page.evaluate(`(() => {
    const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length < 4 || c[3] > 0) return c;
      }
      return [255, 255, 255];
    };
    const out = {};
    for (const selector of ${JSON.stringify(selectors)}) {
      const el = document.querySelector(selector);
      if (!el) continue;
      const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
      out[selector] = Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
    }
    return out;
  })()`);
}

/** Fills the small fast settings the tiny model needs. */
async function smallJob(page: Page, prompt: string, steps: number, size = 64) {
  await page.getByLabel('Prompt', { exact: true }).fill(prompt);
  await page.getByLabel('Steps').fill(String(steps));
  await page.getByLabel('Width').fill(String(size));
  await page.getByLabel('Height').fill(String(size));
}

/**
 * A job the test stops itself (Interrupt): 1000 steps at 128², seconds even on a fast machine, so it is still
 * running after whatever the test does first (a 150-step 64² job once ended before a reload was done).
 */
const longJob = (page: Page, prompt: string) => smallJob(page, prompt, 1000, 128);

/** Records every value the progress bar takes, from now on. */
async function recordProgress(page: Page) {
  // A string: tsx would wrap a named function inside a callback in a helper that does not exist in the page.
  await page.evaluate(`(() => {
    window.__progress = [];
    const tick = () => {
      const bar = document.querySelector('#job-progress');
      if (bar && window.__progress.at(-1) !== bar.value) window.__progress.push(bar.value);
      requestAnimationFrame(tick);
    };
    tick();
  })()`);
}

/** RGBA pixels of an image URL, read in the page. */
async function pixels(page: Page, url: string): Promise<{ width: number; height: number; data: number[] }> {
  return page.evaluate(async (u: string) => {
    const img = new Image();
    img.src = u;
    await img.decode();
    const bitmap = await createImageBitmap(img);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(bitmap, 0, 0);
    return { width: bitmap.width, height: bitmap.height, data: Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data as number[]) };
  }, url);
}

/** A PNG with an A1111 `parameters` tEXt chunk, as A1111 writes it (8×8 grey). */
function a1111Png(parameters: string): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.alloc(8 * (1 + 8 * 3), 128);
  for (let y = 0; y < 8; y++) rows[y * 25] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.from(`parameters\0${parameters}`, 'latin1')),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Drops `bytes` as a file on the drop zone `testid`, the way a drag from the desktop arrives. */
async function dropFile(page: Page, testid: string, bytes: Buffer, name: string) {
  const transfer = await page.evaluateHandle(
    ({ b64, n }: { b64: string; n: string }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const t = new DataTransfer();
      t.items.add(new File([data], n, { type: 'image/png' }));
      return t;
    },
    { b64: bytes.toString('base64'), n: name },
  );
  await page.getByTestId(testid).dispatchEvent('drop', { dataTransfer: transfer });
}

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  // The page as this checkout builds it (not whatever dist/ holds).
  dist = mkdtempSync(join(tmpdir(), 'sdapi-web-dist-'));
  await build({ root: WEB, logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
});

describe('the page on the tiny model', { skip }, () => {
  let server: TinyEngineServer;
  let context: BrowserContext;
  let page: Page;
  let console_: ReturnType<typeof watch>;
  let seed = '';

  before(async () => {
    if (skip) return;
    server = await startTinyEngineServer('web-page', { webui: { dist } });
    // A second checkpoint for the model picker: the fixture's fp16 twin.
    const models = join(server.dataDir, 'models', 'Stable-diffusion');
    mkdirSync(models, { recursive: true });
    copyFileSync(join(dirname(TINY_SD15_CKPT), 'model.fp16.safetensors'), join(models, 'tiny-fp16.safetensors'));
    writeFileSync(join(server.dataDir, 'styles.csv'), 'name,prompt,negative_prompt\nWatercolor,"{prompt}, watercolor painting",ugly\n');
    // A LoRA for the picker: the kohya fixture made for this tiny model.
    const loras = join(server.dataDir, 'models', 'Lora');
    mkdirSync(loras, { recursive: true });
    copyFileSync(join(dirname(dirname(TINY_SD15_CKPT)), 'lora', 'lora_kohya.safetensors'), join(loras, 'tiny-lora.safetensors'));
    await fetch(`${server.base}/sdapi/v1/refresh-loras`, { method: 'POST' });
    // A ControlNet for the unit: the tiny one made for this model.
    const controlnets = join(server.dataDir, 'models', 'ControlNet');
    mkdirSync(controlnets, { recursive: true });
    copyFileSync(join(dirname(dirname(TINY_SD15_CKPT)), 'controlnet', 'tiny-controlnet.safetensors'), join(controlnets, 'tiny-controlnet.safetensors'));
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page = await context.newPage();
    console_ = watch(page);
    await page.goto(`${server.base}/`);
    await page.getByText('live', { exact: true }).waitFor();
  });

  after(async () => {
    await context?.close();
    await server?.close();
  });

  test('type a prompt, Generate: the progress bar moves and a 64×64 image appears with its seed', async () => {
    await smallJob(page, 'a lighthouse at dusk', 300); // enough steps for the bar to be drawn between 0 and 1 on a fast machine
    await recordProgress(page);
    await page.getByRole('button', { name: 'Generate' }).click();
    const card = page.locator('.gallery figure').first();
    await card.waitFor({ timeout: 120_000 });
    const values: number[] = await page.evaluate(() => window.__progress);
    const inside = values.filter((v) => v > 0 && v < 1);
    console.log(`# progress values seen: ${values.length}, ${new Set(inside).size} distinct between 0 and 1`);
    assert.ok(new Set(inside).size >= 2, `the bar took at least two values between 0 and 1, saw ${values.join(', ')}`);
    seed = (await card.locator('.seed').textContent()) ?? '';
    assert.match(seed, /^\d+$/);
    assert.equal(await card.locator('.size').textContent(), '64×64');
    const size = await card.locator('img').evaluate((img: any) => [img.naturalWidth, img.naturalHeight]);
    assert.deepEqual(size, [64, 64]);
    assert.match((await card.locator('img').getAttribute('alt')) ?? '', /a lighthouse at dusk/);
    assert.equal(await page.locator('p[aria-live="polite"]').textContent(), 'Done: 1 image(s).', 'screen readers hear the end');
    await shot(page, '1-generated');
    console_.assertClean();
  });

  test('reuse parameters fills the form again, seed included', async () => {
    await page.getByLabel('Prompt', { exact: true }).fill('something else');
    await page.getByLabel('Steps').fill('5');
    await page.getByLabel('Seed', { exact: true }).fill('-1');
    await page.locator('.gallery figure').first().getByRole('button', { name: 'Reuse parameters' }).click();
    assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), 'a lighthouse at dusk');
    assert.equal(await page.getByLabel('Steps').inputValue(), '300');
    assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), seed);
    assert.equal(await page.getByLabel('Width').inputValue(), '64');
    await shot(page, '2-reused');
    console_.assertClean();
  });

  test("a second tab sees the first tab's job run, and a reload does not lose it", async () => {
    const other = await context.newPage();
    const otherConsole = watch(other);
    await other.goto(`${server.base}/`);
    await other.getByText('live', { exact: true }).waitFor();
    await longJob(page, 'a long job');
    await page.getByLabel('Seed', { exact: true }).fill('5');
    await page.getByRole('button', { name: 'Generate' }).click();
    await other.locator('#job-progress').waitFor({ timeout: 60_000 });
    await other.reload();
    await other.locator('#job-progress').waitFor({ timeout: 60_000 });
    await shot(other, '3-second-tab-after-reload');
    await page.getByRole('button', { name: 'Interrupt' }).click(); // both tabs then show what it made
    await other.locator('.gallery figure[data-seed="5"]').waitFor({ timeout: 120_000 });
    await page.locator('.gallery figure[data-seed="5"]').waitFor({ timeout: 120_000 });
    otherConsole.assertClean();
    await other.close();
    console_.assertClean();
  });

  test('inpainting round trip: send to img2img, paint a mask, generate; only the masked part changes', async () => {
    await page.locator('.gallery figure').first().getByRole('button', { name: 'Send to img2img' }).click();
    const canvas = page.getByTestId('mask-canvas');
    await canvas.waitFor();
    const initUrl: string = await page.locator('.mask-stage img').evaluate((img: any) => img.src);
    await page.getByLabel(/Brush size/).fill('16');
    const box = await canvas.boundingBox();
    assert.ok(box);
    // Paint the left quarter of the image, top to bottom.
    for (const fx of [0.05, 0.15]) {
      await page.mouse.move(box.x + box.width * fx, box.y + 1);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * fx, box.y + box.height - 1, { steps: 8 });
      await page.mouse.up();
    }
    await page.getByLabel('Denoising strength').fill('1');
    await page.getByLabel('Mask blur').fill('0');
    await page.getByLabel('Steps').fill('6');
    await shot(page, '4a-mask-painted');
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const outUrl: string = await page
      .locator('.gallery figure img')
      .first()
      .evaluate((img: any) => img.src);
    const [init, out] = [await pixels(page, initUrl), await pixels(page, outUrl)];
    const w = init.width; // the card sent: 128² from the test before (its job had to outlast a reload)
    assert.deepEqual([out.width, out.height], [w, init.height]);
    const meanDiff = (x0: number, x1: number) => {
      let sum = 0;
      let n = 0;
      for (let y = 0; y < init.height; y++)
        for (let x = x0; x < x1; x++)
          for (let c = 0; c < 3; c++) {
            sum += Math.abs(init.data[(y * w + x) * 4 + c] - out.data[(y * w + x) * 4 + c]);
            n++;
          }
      return sum / n;
    };
    const masked = meanDiff(0, w / 8);
    const kept = meanDiff((w * 5) / 8, w);
    console.log(`# inpainting: mean |Δ| masked ${masked.toFixed(2)}, unmasked ${kept.toFixed(2)} (of 255)`);
    assert.ok(masked > 10, `the painted area was regenerated (mean |Δ| ${masked})`);
    assert.ok(kept < 2, `the unpainted area kept the original pixels (mean |Δ| ${kept})`);
    await shot(page, '4b-inpainted');
    console_.assertClean();
  });

  test('PNG info: a dropped PNG (ours, then an A1111 one) shows its parameters and sends them to the form', async () => {
    await page.getByRole('button', { name: 'PNG info' }).click();
    const ours: string = await page
      .locator('.history img')
      .first()
      .evaluate((img: any) => img.src);
    const bytes = Buffer.from(await (await fetch(ours)).arrayBuffer());
    await dropFile(page, 'png_file-drop', bytes, 'ours.png');
    await assert.doesNotReject(page.getByTestId('png-infotext').waitFor());
    assert.match((await page.getByTestId('png-infotext').textContent()) ?? '', /Steps: \d+, Sampler: /);

    const infotext =
      'a red fox in snow\nNegative prompt: blurry\nSteps: 17, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 4242, Size: 64x64, Model hash: abcdef1234, Model: some_model, Version: v1.10.1';
    await dropFile(page, 'png_file-drop', a1111Png(infotext), 'a1111.png');
    await page.getByTestId('png-infotext').getByText('a red fox in snow').waitFor();
    await shot(page, '5-png-info');
    await page.getByRole('button', { name: 'Send to txt2img' }).click();
    assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), 'a red fox in snow');
    assert.equal(await page.getByLabel('Negative prompt').inputValue(), 'blurry');
    assert.equal(await page.getByLabel('Steps').inputValue(), '17');
    assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '4242');
    assert.equal(await page.getByLabel('CFG scale').inputValue(), '6.5');
    assert.equal(await page.getByLabel('Sampler').inputValue(), 'DPM++ 2M');
    assert.equal(await page.getByLabel('Schedule type').inputValue(), 'Karras');
    console_.assertClean();
  });

  test('Extras: send a result to extras, upscale it ×2 with Lanczos as a job; a bad factor is shown under its field; two images are one batch job', async () => {
    try {
      await page.getByRole('button', { name: 'txt2img', exact: true }).click();
      const first = page.locator('.gallery figure').first();
      await first.waitFor();
      const [w, h] = (await first.locator('.size').textContent())?.split('×').map(Number) ?? [];
      await first.getByRole('button', { name: 'Send to extras' }).click();
      await page.getByAltText('To upscale').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Extras (upscale)' }).getAttribute('aria-pressed'), 'true');
      await page.getByLabel('Scale factor').fill('0');
      await page.getByRole('button', { name: 'Upscale', exact: true }).click();
      await page.locator('.field-error[data-field="upscaling_resize"]').waitFor();
      const before = await page.locator('.gallery').getAttribute('data-job');
      await page.getByLabel('Scale factor').fill('2');
      await page.getByLabel('Upscaler', { exact: true }).selectOption('Lanczos');
      await page.getByRole('button', { name: 'Upscale', exact: true }).click();
      const card = page.locator(`.gallery:not([data-job="${before}"]) figure`).first();
      await card.waitFor({ timeout: 60_000 });
      assert.equal(await card.locator('.size').textContent(), `${2 * w}×${2 * h}`);
      const size = await card.locator('img').evaluate((img: any) => [img.naturalWidth, img.naturalHeight]);
      assert.deepEqual(size, [2 * w, 2 * h]);
      assert.equal(await card.getByRole('button', { name: 'Reuse parameters' }).count(), 0, 'an upscale has no prompt to reuse');
      await shot(page, '6-extras');
      // Two images dropped: one batch job, both upscaled.
      await page.getByRole('button', { name: 'Remove image' }).click();
      const png = Buffer.from(await (await fetch(await card.locator('img').evaluate((img: any) => img.src))).arrayBuffer());
      await dropFile(page, 'extras_image-drop', png, 'a.png');
      await dropFile(page, 'extras_image-drop', png, 'b.png');
      await page.getByText('2 images, one batch job.').waitFor();
      const beforeBatch = await page.locator('.gallery').getAttribute('data-job');
      await page.getByRole('button', { name: 'Upscale', exact: true }).click();
      const batch = page.locator(`.gallery:not([data-job="${beforeBatch}"]) figure`);
      await batch.first().waitFor({ timeout: 60_000 });
      assert.deepEqual(await batch.locator('.size').allTextContents(), [`${4 * w}×${4 * h}`, `${4 * w}×${4 * h}`]);
      const id = await page.locator('.gallery').getAttribute('data-job');
      assert.equal(((await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job).type, 'extra-batch-images');
      console_.assertClean([/status of 422/]);
    } finally {
      await page.getByRole('button', { name: 'txt2img', exact: true }).click(); // where the next flows start
    }
  });

  test('API errors are shown next to their field (and focused), not as a blank page', async () => {
    await page.getByLabel('Steps').fill('0');
    await page.getByRole('button', { name: 'Generate' }).click();
    const stepsError = page.locator('.field-error[data-field="steps"]');
    await stepsError.waitFor();
    assert.match((await stepsError.textContent()) ?? '', /steps must be at least 1, got 0/);
    assert.equal(await page.getByLabel('Steps').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'steps');
    await shot(page, '6a-error-steps');

    await page.getByLabel('Steps').fill('4');
    await page.getByLabel('CFG scale').fill('');
    await page.getByRole('button', { name: 'Generate' }).click();
    const cfgError = page.locator('.field-error[data-field="cfg_scale"]');
    await cfgError.waitFor();
    assert.equal(await stepsError.count(), 0, 'the old error is gone');
    console.log(`# 422 shown next to CFG scale: ${await cfgError.textContent()}`);
    await shot(page, '6b-error-cfg');
    // The only console errors: Chromium's network log lines for the two 422 answers this test provoked.
    console_.assertClean([/status of 422/]);
    await page.getByLabel('CFG scale').fill('7');
  });

  test('phone width: one column, no sideways scrolling; dark theme', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 800 }, colorScheme: 'dark', isMobile: true });
    const p = await phone.newPage();
    const pc = watch(p);
    await p.goto(`${server.base}/`);
    await p.locator('.gallery figure').first().waitFor();
    const widths = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(widths[0] <= widths[1], `no horizontal overflow at 375 px (scrollWidth ${widths[0]})`);
    const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(17, 20, 24)', 'dark background from prefers-color-scheme');
    await shot(p, '7-phone-dark');
    pc.assertClean();
    await phone.close();
  });

  test('keyboard: Ctrl+Enter in the prompt generates; every form control has a label', async () => {
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea') as ArrayLike<any>)
        .filter((el) => !el.labels?.length && !el.getAttribute('aria-label'))
        .map((el) => el.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
    const before = await page.locator('.gallery').getAttribute('data-job');
    await smallJob(page, 'keyboard only', 3);
    await page.getByLabel('Prompt', { exact: true }).press('Control+Enter');
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    console_.assertClean();
  });

  test('hires fix: the toggle doubles a 64×64 job to 128×128', async () => {
    const before = await page.locator('.gallery').getAttribute('data-job');
    await smallJob(page, 'hires', 2);
    await page.getByLabel('Hires. fix').check();
    await page.getByLabel('Upscale by').fill('2');
    await page.getByLabel('Hires denoising').fill('0.5');
    await page.getByRole('button', { name: 'Generate' }).click();
    const card = page.locator(`.gallery:not([data-job="${before}"]) figure`).first();
    await card.waitFor({ timeout: 120_000 });
    assert.equal(await card.locator('.size').textContent(), '128×128');
    await page.getByLabel('Hires. fix').uncheck();
    console_.assertClean();
  });

  test('batch count 2 × batch size 2: four images with consecutive seeds', async () => {
    const before = await page.locator('.gallery').getAttribute('data-job');
    await smallJob(page, 'a batch', 2);
    await page.getByLabel('Seed', { exact: true }).fill('100');
    await page.getByLabel('Batch count').fill('2');
    await page.getByLabel('Batch size').fill('2');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    assert.deepEqual(await page.locator('.gallery figure .seed').allTextContents(), ['100', '101', '102', '103']);
    await page.getByLabel('Batch count').fill('1');
    await page.getByLabel('Batch size').fill('1');
    console_.assertClean();
  });

  test('Interrupt stops the running job and shows what it made so far', async () => {
    await longJob(page, 'to be interrupted');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.waitForFunction(() => (document.querySelector('#job-progress')?.value ?? 0) > 0.02, null, { timeout: 60_000 });
    await page.getByRole('button', { name: 'Interrupt' }).click();
    await page.getByText('Interrupted: these are the images made so far.').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('#job-progress').count(), 0, 'the progress panel is gone');
    await shot(page, '9-interrupted');
    console_.assertClean();
  });

  test('without the websocket (a proxy that refuses upgrades) the page follows its job over SSE', async () => {
    const p = await context.newPage();
    const pc = watch(p);
    await p.routeWebSocket(/sdapi\/v2\/ws/, (ws) => ws.close({ code: 1011, reason: 'no websockets here' }));
    const streams: string[] = [];
    p.on('request', (r) => r.url().endsWith('/events') && streams.push(r.url()));
    await p.goto(`${server.base}/`);
    await p.getByText('offline', { exact: true }).waitFor();
    const before = await p.locator('.gallery').getAttribute('data-job');
    await smallJob(p, 'over server-sent events', 20);
    await recordProgress(p);
    await p.getByRole('button', { name: 'Generate' }).click();
    await p.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const values: number[] = await p.evaluate(() => window.__progress);
    assert.ok(
      values.some((v) => v > 0 && v < 1),
      `progress arrived over SSE: ${values.join(', ')}`,
    );
    assert.ok(streams.length > 0, 'the job was followed at /sdapi/v2/jobs/{id}/events');
    pc.assertClean();
    await p.close();
  });

  test('the model picker switches the checkpoint through the API, with a busy bar while it loads', async () => {
    const picker = page.getByLabel('Model', { exact: true });
    const titles = await picker.locator('option').allTextContents();
    const listed = titles.find((t) => t.startsWith('tiny-fp16'));
    assert.ok(listed, `the second checkpoint is listed: ${titles.join(', ')}`);
    await page.evaluate(`(() => {
      window.__loadingSeen = false;
      const tick = () => {
        if (document.querySelector('.model-loading progress')) window.__loadingSeen = true;
        if (!window.__loadingSeen) requestAnimationFrame(tick);
      };
      tick();
    })()`);
    await picker.selectOption(listed);
    await page.waitForFunction(() => !document.querySelector('.model-loading'), null, { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.__loadingSeen), true, 'a busy bar while the model loaded');
    const options = (await (await fetch(`${server.base}/sdapi/v1/options`)).json()) as { sd_model_checkpoint: string };
    assert.match(options.sd_model_checkpoint, /^tiny-fp16\.safetensors/, 'the server switched');
    assert.equal(await picker.inputValue(), options.sd_model_checkpoint, 'the picker shows what the server loaded');
    const before = await page.locator('.gallery').getAttribute('data-job');
    await smallJob(page, 'on the fp16 model', 2);
    await page.getByRole('button', { name: 'Generate' }).click();
    const card = page.locator(`.gallery:not([data-job="${before}"]) figure`).first();
    await card.waitFor({ timeout: 120_000 });
    assert.match((await card.textContent()) ?? '', /Modeltiny-fp16/);
    await shot(page, '10-model-switched');
    console_.assertClean();
  });

  test('styles from styles.csv: a checked style reaches the job and its infotext', async () => {
    await page.getByLabel('Watercolor').check();
    const before = await page.locator('.gallery').getAttribute('data-job');
    await smallJob(page, 'a harbour', 2);
    await page.getByLabel('Negative prompt').fill('');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    assert.deepEqual(job.result?.parameters.styles, ['Watercolor']);
    assert.match(job.result?.images[0].infotext, /^a harbour, watercolor painting\nNegative prompt: ugly/);
    await page.getByLabel('Watercolor').uncheck();
    console_.assertClean();
  });

  test('LoRA picker: the server\'s LoRAs; "Add to prompt" appends the tag, and the job applies it', async () => {
    const names = await page.getByLabel('LoRA', { exact: true }).locator('option').allTextContents();
    assert.equal(names.length, 1, `the one LoRA file: ${names.join(', ')}`);
    await smallJob(page, 'a harbour', 2);
    await page.getByLabel('LoRA weight').fill('0.5');
    await page.getByRole('button', { name: 'Add to prompt' }).click();
    assert.equal(await page.getByLabel('Prompt', { exact: true }).inputValue(), `a harbour <lora:${names[0]}:0.5>`);
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    assert.match(job.result?.images[0].infotext ?? '', new RegExp(`Lora hashes: "${names[0]}: [0-9a-f]{12}"`));
    console_.assertClean();
  });

  test('ControlNet unit: enable it with a control image and the model; the job runs it (infotext names the unit)', async () => {
    await page.getByText('ControlNet', { exact: true }).click(); // unfold
    await page.getByLabel('Enable').check();
    // A file the browser cannot decode is said under the drop zone, not dropped silently.
    await dropFile(page, 'controlnet_image-drop', Buffer.from('not a png'), 'broken.png');
    await page.locator('.field-error[data-field="controlnet_image"]').waitFor();
    const hint = readFileSync(join(dirname(dirname(TINY_SD15_CKPT)), 'controlnet', 'hint.png'));
    await dropFile(page, 'controlnet_image-drop', hint, 'hint.png');
    await page.locator('.field-error[data-field="controlnet_image"]').waitFor({ state: 'detached' });
    await page.getByAltText('Control').waitFor();
    const models = await page.getByLabel('ControlNet model').locator('option').allTextContents();
    assert.deepEqual(models, ['tiny-controlnet [8dba536e]']);
    await page.getByLabel('Control weight').fill('0.5');
    await shot(page, '7-controlnet');
    await smallJob(page, 'a harbour', 2);
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    assert.match(job.result?.images[0].infotext ?? '', /ControlNet 0: "Module: none, Model: tiny-controlnet \[8dba536e\], Weight: 0\.5,/);
    console_.assertClean();
  });

  test('a second ControlNet unit: its own image and weight; both units are sent, in unit order', async () => {
    const units = await page.getByRole('group', { name: 'ControlNet unit' }).getByRole('button').allTextContents();
    assert.deepEqual(units, ['Unit 0 (on)', 'Unit 1', 'Unit 2'], "the server's control_net_unit_count (3) units");
    await page.getByRole('button', { name: 'Unit 1' }).click();
    assert.equal(await page.getByAltText('Control').count(), 0, 'unit 1 has no image yet');
    await page.getByLabel('Enable').check();
    const hint = readFileSync(join(dirname(dirname(TINY_SD15_CKPT)), 'controlnet', 'hint.png'));
    await dropFile(page, 'controlnet_image-drop', hint, 'hint.png');
    await page.getByAltText('Control').waitFor();
    await page.getByLabel('Control weight').fill('0.25');
    assert.match((await page.locator('details.controlnet summary').first().textContent()) ?? '', /ControlNet \(2 on\)/);
    await shot(page, '7b-controlnet-unit-1');
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    const infotext = job.result?.images[0].infotext ?? '';
    assert.match(infotext, /ControlNet 0: "Module: none, Model: tiny-controlnet \[8dba536e\], Weight: 0\.5,/);
    assert.match(infotext, /ControlNet 1: "Module: none, Model: tiny-controlnet \[8dba536e\], Weight: 0\.25,/);
    await page.getByLabel('Enable').uncheck(); // the next flows run without either unit
    await page.getByRole('button', { name: 'Unit 0' }).click();
    assert.equal(await page.getByLabel('Control weight').inputValue(), '0.5', 'unit 0 kept its own fields');
    await page.getByLabel('Enable').uncheck();
    console_.assertClean();
  });

  test('X/Y/Z plot: Seed "1,2" × Steps "2,3" with the cells: the grid first, then four images', async () => {
    await page.locator('details.script summary').click(); // unfold the Script menu
    const offered = await page.getByLabel('Script', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(offered, ['None', 'Prompt matrix', 'Prompts from file or textbox', 'X/Y/Z plot'], "txt2img's selectable scripts");
    await page.getByLabel('Script', { exact: true }).selectOption('x/y/z plot');
    await page.getByLabel('X axis').selectOption('Seed');
    await page.getByLabel('X values').fill('1,2');
    await page.getByLabel('Y axis').selectOption('Steps');
    await page.getByLabel('Y values').fill('2,3');
    await page.getByLabel("Also each cell's image").check();
    await smallJob(page, 'a harbour', 2);
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const sizes = await page.locator('.gallery figure .size').allTextContents();
    assert.equal(sizes.length, 5, `the grid and four cells: ${sizes.join(', ')}`);
    assert.deepEqual(sizes.slice(1), ['64×64', '64×64', '64×64', '64×64']);
    const [gridWidth] = sizes[0].split('×').map(Number);
    assert.ok(gridWidth > 128, `the grid has two columns and a legend: ${sizes[0]}`);
    assert.deepEqual(await page.locator('.gallery figure .seed').allTextContents(), ['1', '1', '2', '1', '2'], 'the grid carries the first seed');
    console_.assertClean();
  });

  test('X/Y/Z plot with a Z axis: Seed "1,2" × Steps "2,3" as Z: the grids side by side, then one grid per Z value', async () => {
    await page.getByLabel('Y axis').selectOption('Nothing');
    await page.getByLabel('Z axis').selectOption('Steps');
    await page.getByLabel('Z values').fill('2,3');
    await page.getByLabel("Also each cell's image").uncheck();
    await page.getByLabel("Also each Z value's grid").check();
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const sizes = (await page.locator('.gallery figure .size').allTextContents()).map((s) => s.split('×').map(Number));
    assert.equal(sizes.length, 3, `the combined grid and one per Z value: ${JSON.stringify(sizes)}`);
    const [all, z1, z2] = sizes;
    assert.deepEqual(z1, z2, 'both Z grids are alike');
    assert.ok(z1[0] >= 128 && z1[1] >= 64, `a Z grid holds the two seeds side by side: ${z1}`);
    assert.ok(all[0] >= 2 * z1[0] - 1, `the combined grid holds both Z grids side by side: ${all} vs ${z1}`);
    console.log(`# Z plot sizes: ${sizes.map((x) => x.join('×')).join(', ')}`);
    await page.getByLabel('Z axis').selectOption('Nothing');
    await page.getByLabel("Also each Z value's grid").uncheck();
    await page.getByLabel('Script', { exact: true }).selectOption(''); // the next flows run without it
    console_.assertClean();
  });

  test('Script menu, Prompt matrix: "a harbour|at night|in fog" gives the grid and the four combinations', async () => {
    await smallJob(page, 'a harbour|at night|in fog', 2);
    await page.locator('details.script summary').click(); // folded again when None was chosen
    await page.getByLabel('Script', { exact: true }).selectOption('prompt matrix');
    assert.equal(await page.getByLabel('Select joining char').inputValue(), 'comma', "the script's defaults from script-info");
    await page.getByLabel('Use different seed for each picture').check();
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    const prompts = (job.result?.images ?? []).map((image) => (image.infotext ?? '').split('\n')[0]);
    assert.equal(prompts.length, 5, `the grid and four images: ${prompts.join(' | ')}`);
    assert.deepEqual(prompts.slice(1), ['a harbour', 'a harbour, at night', 'a harbour, in fog', 'a harbour, at night, in fog']);
    const seeds = new Set((job.result?.images ?? []).slice(1).map((image) => image.seed));
    assert.equal(seeds.size, 4, 'a different seed for each picture, as checked');
    console_.assertClean();
  });

  test('Script menu, Prompts from file or textbox: one job per line, the line inserted at the start', async () => {
    await page.getByLabel('Script', { exact: true }).selectOption('prompts from file or textbox');
    await smallJob(page, 'at dawn', 2);
    await page.getByLabel('List of prompt inputs').fill('a lighthouse\n--prompt "a windmill" --steps 3');
    const before = await page.locator('.gallery').getAttribute('data-job');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.locator(`.gallery:not([data-job="${before}"]) figure`).first().waitFor({ timeout: 120_000 });
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    const infotexts = (job.result?.images ?? []).map((image) => image.infotext ?? '');
    assert.deepEqual(
      infotexts.map((t) => t.split('\n')[0]),
      ['a lighthouse at dawn', 'a windmill at dawn'],
    );
    assert.match(infotexts[1], /Steps: 3,/, "the line's own --steps");
    await page.getByLabel('Script', { exact: true }).selectOption(''); // the next flows run without it
    await page.getByRole('button', { name: 'img2img / inpaint' }).click();
    await page.locator('details.script summary').click();
    assert.deepEqual(await page.getByLabel('Script', { exact: true }).locator('option').allTextContents(), [
      'None',
      'Loopback',
      'Outpainting mk2',
      "Poor man's outpainting",
      'Prompt matrix',
      'Prompts from file or textbox',
      'SD upscale',
    ]);
    await page.getByLabel('Script', { exact: true }).selectOption('loopback');
    assert.equal(await page.getByLabel('Loops').inputValue(), '4', "img2img's scripts with their script-info defaults");
    await page.getByLabel('Script', { exact: true }).selectOption('');
    await page.getByRole('button', { name: 'txt2img', exact: true }).click();
    console_.assertClean();
  });

  test('copy parameters puts the infotext on the clipboard; download links the PNG', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const card = page.locator('.gallery figure').first();
    await card.getByRole('button', { name: 'Copy parameters' }).click();
    await card.getByRole('button', { name: 'Copied' }).waitFor();
    const clip: string = await page.evaluate(() => navigator.clipboard.readText());
    const id = await page.locator('.gallery').getAttribute('data-job');
    const job = (await (await fetch(`${server.base}/sdapi/v2/jobs/${id}`)).json()) as Job;
    assert.equal(clip, job.result?.images[0].infotext);
    const link = card.getByRole('link', { name: 'Download' });
    assert.equal(await link.getAttribute('download'), `${id}-0.png`);
    const png = await fetch(new URL((await link.getAttribute('href')) ?? '', server.base));
    assert.equal(png.headers.get('content-type'), 'image/png');
    console_.assertClean();
  });

  test('history pages: "Older jobs" loads the next page', async () => {
    await page.reload();
    await page.getByText('live', { exact: true }).waitFor();
    const items = page.locator('.history li');
    assert.equal(await items.count(), 8, 'the first page holds 8 jobs');
    await page.getByRole('button', { name: 'Older jobs' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.history li').length > 8);
    const total = ((await (await fetch(`${server.base}/sdapi/v2/jobs?status=succeeded,failed,cancelled&limit=100`)).json()) as { jobs: Job[] }).jobs.length;
    assert.equal(await items.count(), Math.min(16, total));
    console_.assertClean();
  });

  test('img2img takes a pasted image', async () => {
    await page.getByRole('button', { name: 'img2img / inpaint' }).click();
    if (await page.getByRole('button', { name: 'Remove image' }).count()) await page.getByRole('button', { name: 'Remove image' }).click();
    const bytes = a1111Png('pasted');
    await page.getByTestId('init_image-drop').evaluate((zone: any, b64: string) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([data], 'pasted.png', { type: 'image/png' }));
      zone.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer as any, bubbles: true }));
    }, bytes.toString('base64'));
    await page.getByTestId('mask-canvas').waitFor();
    assert.match((await page.locator('.img2img .hint').first().textContent()) ?? '', /^8 × 8\./);
    await page.getByRole('button', { name: 'txt2img', exact: true }).click();
    console_.assertClean();
  });

  test('contrast: text is at least 4.5:1 against its background, light and dark', async () => {
    const selectors = [
      'label',
      '.hint',
      '.actions button:not(.primary)',
      'button.primary',
      '.modes button[aria-pressed="true"]',
      '.params dt',
      '.params dd',
      '.history-text small',
      'h2',
      '.status',
      'legend',
    ];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const ratios = await contrasts(page, selectors);
      console.log(
        `# contrast (${scheme}): ${Object.entries(ratios)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
      assert.equal(Object.keys(ratios).length, selectors.length, 'every selector was measured');
      for (const [selector, ratio] of Object.entries(ratios)) assert.ok(ratio >= 4.5, `${scheme}: ${selector} has ${ratio}:1`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('focus order: Tab walks the model picker, the modes, then the form top to bottom', async () => {
    await page.reload();
    await page.getByText('live', { exact: true }).waitFor();
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent?.trim() || ''));
    }
    assert.deepEqual(seen.slice(0, 7), ['model', 'txt2img', 'img2img / inpaint', 'Extras (upscale)', 'PNG info', 'prompt', 'negative_prompt']);
    const rest = seen.slice(7);
    assert.ok(
      rest.indexOf('lora') >= 0 && rest.indexOf('lora') < rest.indexOf('sampler'),
      `then the styles, the LoRA picker and the sampler: ${rest.join(', ')}`,
    );
  });
});

describe('behind --api-auth and under a sub-path', { skip }, () => {
  let server: TinyEngineServer;
  let proxy: Server;
  let proxyBase: string;

  before(async () => {
    if (skip) return;
    server = await startTinyEngineServer('web-auth', { webui: { dist }, apiAuth: 'me:secret' });
    const target = new URL(server.base);
    // A reverse proxy that serves the server under /sd/ (what A1111's --subpath is for), websockets included.
    proxy = createServer((req, res) => {
      if (!req.url?.startsWith('/sd/')) return res.writeHead(404).end();
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url.slice(3), method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy()); // the server closing its streams at the end of the test
      req.pipe(upstream);
    });
    proxy.on('upgrade', (req, socket, head) => {
      const up = connect(Number(target.port), target.hostname, () => {
        const headers = Object.entries(req.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n');
        up.write(`${req.method} ${req.url?.slice(3)} HTTP/1.1\r\n${headers}\r\n\r\n`);
        up.write(head);
        up.pipe(socket).pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const address = proxy.address() as { port: number };
    proxyBase = `http://127.0.0.1:${address.port}/sd/`;
  });

  after(async () => {
    proxy?.close();
    await server?.close();
  });

  test('without credentials the browser is asked for them (401 + Basic challenge)', async () => {
    // (Headless Chromium cannot show the prompt, so the challenge itself is checked.)
    const res = await fetch(proxyBase);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="sdapi"/);
    const api = await fetch(`${proxyBase}sdapi/v1/samplers`);
    assert.equal(api.status, 401, 'the API too');
  });

  test('with the credentials the browser was asked for, the page works under /sd/: generate and see the image', async () => {
    const ctx = await browser.newContext({ httpCredentials: { username: 'me', password: 'secret' } });
    const p = await ctx.newPage();
    const pc = watch(p);
    const paths: string[] = [];
    p.on('request', (r) => paths.push(new URL(r.url()).pathname));
    await p.goto(proxyBase);
    await p.getByText('live', { exact: true }).waitFor();
    await smallJob(p, 'behind a proxy', 3);
    await p.getByRole('button', { name: 'Generate' }).click();
    const img = p.locator('.gallery figure img').first();
    await img.waitFor({ timeout: 120_000 });
    await p.waitForFunction(() => (document.querySelector('.gallery figure img')?.naturalWidth ?? 0) > 0);
    assert.deepEqual(await img.evaluate((i: any) => [i.naturalWidth, i.naturalHeight]), [64, 64]);
    const outside = paths.filter((path) => !path.startsWith('/sd/'));
    assert.deepEqual(outside, [], 'every request stays under the sub-path');
    await shot(p, '8-auth-subpath');
    pc.assertClean();
    await ctx.close();
  });
});

describe('behind --api-keys only', { skip }, () => {
  let server: TinyEngineServer;

  before(async () => {
    if (skip) return;
    server = await startTinyEngineServer('web-keys', { webui: { dist }, apiKeys: 'sk-page-test' });
  });

  after(async () => {
    await server?.close();
  });

  test('the page asks for a key, then sends it as Bearer with every call, images included', async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const pc = watch(p);
    await p.goto(`${server.base}/`);
    await p.getByLabel('API key (--api-keys)').fill('sk-page-test');
    await p.getByRole('button', { name: 'Use this key' }).click();
    await p.getByText('live', { exact: true }).waitFor();
    await smallJob(p, 'with a key', 3);
    await p.getByRole('button', { name: 'Generate' }).click();
    const img = p.locator('.gallery figure img').first();
    await img.waitFor({ timeout: 120_000 });
    await p.waitForFunction(() => (document.querySelector('.gallery figure img')?.naturalWidth ?? 0) > 0);
    assert.match((await img.getAttribute('src')) ?? '', /^blob:/, 'shown from bytes fetched with the key');
    assert.deepEqual(await img.evaluate((i: any) => [i.naturalWidth, i.naturalHeight]), [64, 64]);
    // Before the key: the browser's network log of the page's first, refused calls.
    pc.assertClean([/status of 401/]);
    await ctx.close();
  });
});
