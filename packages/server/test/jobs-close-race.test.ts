/**
 * A job that fails inside the queue just as the server closes: its `failed` record is being written when
 * shutdown closes the job journal, so the writes after it (the `failed` event) reach a closed journal. That must
 * be logged, not become an unhandled rejection (which fails whatever test file the race happens in).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GenerationHooks, Txt2ImgParams, Txt2ImgResult } from '@sdapi/engine';
import { buildApp } from '../src/index.ts';
import type { JobRecord } from '../src/services/jobs/types.ts';
import { FakeGenerator } from './helpers/fake-generator.ts';

class FailingGenerator extends FakeGenerator {
  override async txt2img(_params: Txt2ImgParams, _hooks: GenerationHooks): Promise<Txt2ImgResult> {
    throw new Error('the engine broke');
  }
}

test('closing the app while a job is failing: the late writes are logged, no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-close-race-'));
    const logged: string[] = [];
    const logger = { level: 'info', stream: { write: (line: string) => logged.push(line) } };
    const app = await buildApp({ generator: new FailingGenerator(), dataDir, logger });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });

    // Hold the write of the `failed` record until the app has closed: the race, made deterministic.
    const store = app.sd.jobs.store;
    const put = store.put.bind(store);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let failing!: () => void;
    const failingNow = new Promise<void>((r) => {
      failing = r;
    });
    store.put = async (record: JobRecord, durable: boolean) => {
      const written = put(record, durable);
      if (record.status !== 'failed') return written;
      failing();
      await gate;
      return written;
    };

    const res = await fetch(`${url}/sdapi/v2/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'txt2img', params: { prompt: 'x', steps: 2, width: 16, height: 8 }, id: 'late-fail' }),
    });
    assert.equal(res.status, 202);
    await failingNow;
    await app.close(); // shutdown closes the journal while the job's failure is still being written
    release();
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // let the late writes run (and reject)

    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
    const line = logged.find((l) => l.includes('late-fail') && l.includes('journal is closed'));
    assert.ok(line, `the dropped write is logged; log: ${logged.join('')}`);
    // The failed record itself was written before the journal closed: a restart sees the job failed.
    const journal = readFileSync(join(dataDir, 'jobs', 'journal.jsonl'), 'utf8');
    assert.match(journal, /"id":"late-fail"[^\n]*"status":"failed"/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
