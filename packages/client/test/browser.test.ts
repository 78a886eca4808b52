/**
 * The SDK in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) loads the
 * client as an ES module bundled by esbuild for the browser platform (a Node built-in would fail the bundle) and
 * calls the server. The page and the bundle are served by the same app, so no CORS is involved.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildApp } from '@sdapi/server';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { FakeGenerator } from '../../server/test/helpers/fake-generator.ts';

// Browser globals used inside page.evaluate (the repository's tsconfig has no DOM lib).
declare const location: { origin: string };
declare const navigator: { userAgent: string };
declare function createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (install Debian's chromium: apt-get install chromium)`;
if (skip) console.log(`# skipping the browser test: ${skip}`);

let browser: Browser | undefined;
let page: Page;
let origin: string;
let close: (() => Promise<unknown>) | undefined;

before(async () => {
  if (skip) return;
  const entry = join(dirname(fileURLToPath(import.meta.url)), '../src/index.ts');
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false });
  const app = await buildApp({ generator: new FakeGenerator() });
  app.get('/__test/client.js', (_req, reply) => reply.type('text/javascript').send(bundle.outputFiles[0].text));
  app.get('/__test/', (_req, reply) => reply.type('text/html').send('<!doctype html><title>sdapi client</title>'));
  origin = await app.listen({ port: 0, host: '127.0.0.1' });
  close = () => app.close();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu'] });
  page = await browser.newPage();
  await page.goto(`${origin}/__test/`);
});

after(async () => {
  await browser?.close();
  await close?.();
});

test('txt2img from a browser: typed result, decodable PNG, parsed info', { skip }, async () => {
  const out = await page.evaluate(async () => {
    const { SDClient, imageToBlob, parseInfo } = await import('/__test/client.js' as string);
    const sd = new SDClient({ baseURL: location.origin });
    const res = await sd.txt2img({ prompt: 'a cat', seed: 7, steps: 2, width: 8, height: 16, batch_size: 2 });
    const bitmap = await createImageBitmap(imageToBlob(res.images[1]));
    return { count: res.images.length, size: [bitmap.width, bitmap.height], seeds: parseInfo(res.info).all_seeds, ua: navigator.userAgent };
  });
  assert.match(out.ua, /HeadlessChrome|Chrome/);
  assert.deepEqual(out, { count: 2, size: [8, 16], seeds: [7, 8], ua: out.ua });
});

test('in the browser: APIError subclasses, progress events from generate(), lists', { skip }, async () => {
  const out = await page.evaluate(async () => {
    const { SDClient, UnprocessableEntityError, APIError } = await import('/__test/client.js' as string);
    const sd = new SDClient({ baseURL: location.origin });
    const err = await sd.txt2img({ sampler_name: 'nope' }).catch((e: unknown) => e);
    const events: string[] = [];
    for await (const e of sd.generate('txt2img', { steps: 3, width: 8, height: 8 }, { interval: 5 })) events.push(e.type);
    return {
      is422: err instanceof UnprocessableEntityError && err instanceof APIError,
      status: (err as { status: number }).status,
      last: events.at(-1),
      samplers: (await sd.samplers.list()).length,
    };
  });
  assert.deepEqual(out, { is422: true, status: 422, last: 'result', samplers: out.samplers });
  assert.ok(out.samplers >= 20);
});
