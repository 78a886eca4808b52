#!/usr/bin/env node
// Builds the browser page (packages/web → packages/web/dist) with Vite; the root `prepare` script runs it, so
// `npm ci` builds the page. A failed page build does not fail the install: the API works without the page, and
// the server's `/` then says how to build it. `--strict` (npm run build:web) fails on error instead.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const strict = process.argv.includes('--strict');
if (!existsSync('packages/web/node_modules/.bin/vite') && !existsSync('node_modules/.bin/vite')) {
  console.warn('sdapi: vite is not installed (npm ci --omit=dev?): the web page was not built; the API works without it.');
  process.exit(strict ? 1 : 0);
}
const result = spawnSync('npm', ['run', 'build', '--workspace', '@sdapi/web'], { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('sdapi: the web page did not build (see above); the API works without it. Retry with: npm run build:web');
  process.exit(strict ? (result.status ?? 1) : 0);
}
