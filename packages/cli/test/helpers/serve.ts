/** Starts `sdapi serve` as a user does (a child process on the tiny SD1.5 fixture) for the serve tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const BIN = join(repo, 'packages/cli/bin/sdapi.js');
export const TINY = resolve(process.env.SDAPI_SHARED ?? join(repo, '../shared'), 'fixtures/tiny-sd15/model.safetensors');
/** The reason to skip a test that needs the fixture, or false when it is there. */
export const skip = existsSync(TINY) ? false : `${TINY} is absent (../shared is not beside this clone)`;

export interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `sdapi serve` on a free port in a fresh data dir and resolves once it prints its address. */
export async function serve(args: string[]): Promise<Served> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-serve-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--nowebui', '--data-dir', dataDir, '--ckpt', TINY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    const timer = setInterval(() => {
      const m = /sdapi listening on (\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        done(m[1]);
      }
    }, 50);
    exited.then((code) => {
      clearInterval(timer);
      fail(new Error(`serve exited (${code}) before listening:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}
