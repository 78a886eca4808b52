/**
 * Crash safety (issue 13 §8): a child server is killed with SIGKILL five times at pseudo-random moments while
 * clients submit jobs and save options. After every restart: no temporary or partial file is left in the data dir,
 * config.json is whole JSON holding the last acknowledged value (or a later one), every stored image is a whole
 * PNG, and every job the server acknowledged (202) is still there; at the end each one finishes (succeeded, or
 * failed after the two attempts a job that keeps dying with the server gets).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startJobServerChild } from './helpers/job-server.ts';

const KILLS = 5;

/** Every file under `dir` (relative paths). */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

/** A PNG that ends with its IEND chunk (a torn write would not). */
function wholePng(bytes: Buffer): boolean {
  const iend = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  return bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) && bytes.subarray(-12).equals(iend);
}

/** Deterministic pseudo-random moments (a fixed LCG: the same kill times on every run). */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

test(`kill -9 × ${KILLS} at random moments: no acknowledged job lost, no partial file, whole config.json`, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-kill9-'));
  const random = lcg(0x5eed);
  const acknowledged: string[] = [];
  const sentOptions: string[] = [];
  let lastAckedOption = -1;

  // `livePid`: the server now running may be mid-write (it resumes re-queued jobs at once); its own temporary files
  // are work in progress, not leftovers. Those of killed processes must be gone.
  const checkDataDir = (when: string, livePid: number | undefined) => {
    const all = files(dataDir);
    const leftovers = all.filter((f) => (/\.tmp($|-)/.test(f) || f.includes('.partial')) && !f.includes(`.tmp-${livePid}-`));
    assert.deepEqual(leftovers, [], `${when}: temporary files left`);
    if (!existsSync(join(dataDir, 'config.json'))) {
      assert.equal(lastAckedOption, -1, `${when}: config.json is gone after an acknowledged save`);
      return;
    }
    const config = JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')) as { outdir_samples?: string };
    const stored = sentOptions.indexOf(config.outdir_samples ?? '');
    assert.ok(stored >= lastAckedOption, `${when}: config.json holds ${config.outdir_samples}, older than the acknowledged ${sentOptions[lastAckedOption]}`);
    for (const image of all.filter((f) => f.endsWith('.png') && existsSync(join(dataDir, f))))
      assert.ok(wholePng(readFileSync(join(dataDir, image))), `${when}: ${image} is not a whole PNG`);
  };

  for (let round = 0; round < KILLS; round++) {
    const { proc, url } = await startJobServerChild(dataDir, 2);
    if (round > 0) checkDataDir(`after restart ${round}`, proc.pid);
    let alive = true;
    let firstAck: () => void = () => undefined;
    const acked = new Promise<void>((r) => {
      firstAck = r;
    });
    const submitter = (async () => {
      for (let i = 0; alive; i++) {
        const id = `r${round}-j${i}`;
        const res = await fetch(`${url}/sdapi/v2/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'txt2img', id, params: { prompt: id, steps: 3 + (i % 5), width: 16, height: 8, seed: i } }),
        }).catch(() => null);
        if (!res) return;
        if (res.status === 202) {
          acknowledged.push(id);
          firstAck();
        } else assert.fail(`submit ${id}: ${res.status} ${await res.text()}`);
      }
    })();
    const saver = (async () => {
      for (let i = 0; alive; i++) {
        const value = `out-${round}-${i}`;
        sentOptions.push(value);
        const index = sentOptions.length - 1;
        const res = await fetch(`${url}/sdapi/v1/options`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ outdir_samples: value }),
        }).catch(() => null);
        if (!res) return;
        assert.equal(res.status, 200, `options ${value}`);
        lastAckedOption = Math.max(lastAckedOption, index);
      }
    })();
    await Promise.race([acked, submitter]); // the kill comes a random while after this round's first acknowledged job, however slow the start
    await new Promise((r) => setTimeout(r, 150 + random() * 600));
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    alive = false;
    await Promise.all([submitter, saver]);
  }

  const last = await startJobServerChild(dataDir, 0);
  checkDataDir('after the last restart', last.proc.pid);
  assert.ok(acknowledged.length >= KILLS, `only ${acknowledged.length} jobs were acknowledged`);
  const deadline = Date.now() + 60_000;
  for (const id of acknowledged) {
    for (;;) {
      const res = await fetch(`${last.url}/sdapi/v2/jobs/${id}`);
      assert.equal(res.status, 200, `acknowledged job ${id} was lost`);
      const job = (await res.json()) as { status: string; attempts: number; error?: { code: string } };
      if (job.status === 'succeeded') {
        const image = Buffer.from(await (await fetch(`${last.url}/sdapi/v2/jobs/${id}/images/0`)).arrayBuffer());
        assert.ok(wholePng(image), `${id}: its image is not a whole PNG`);
        break;
      }
      if (job.status === 'failed') {
        assert.equal(job.error?.code, 'INTERRUPTED', `${id} failed for another reason: ${JSON.stringify(job)}`);
        assert.ok(job.attempts >= 2, `${id} failed after ${job.attempts} attempt(s)`);
        break;
      }
      assert.ok(Date.now() < deadline, `${id} is still ${job.status}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  console.log(`# ${KILLS} kills, ${acknowledged.length} acknowledged jobs all present and finished, ${lastAckedOption + 1} option saves acknowledged`);
});
