import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressBar } from '../src/progress-bar.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream };
}

test('the bar redraws one line on a TTY and clears it when done', () => {
  const { writes, stream } = fakeStream(true);
  const bar = new ProgressBar(stream, true, 10);
  bar.update({ fraction: 0.45, step: 9, steps: 20, job: 0, jobs: 2, etaSeconds: 2.2 });
  bar.update({ fraction: 1.5, step: 20, steps: 20 });
  bar.done();
  assert.deepEqual(writes, ['\r[█████░░░░░]   45%  step 9/20  batch 1/2  ETA 3s\x1b[K', '\r[██████████]  100%  step 20/20\x1b[K', '\r\x1b[K']);
});

test('nothing is drawn when stderr is not a terminal (pipes, --json)', () => {
  const { writes, stream } = fakeStream(false);
  const bar = new ProgressBar(stream);
  bar.update({ fraction: 0.5 });
  bar.done();
  assert.deepEqual(writes, []);
});
