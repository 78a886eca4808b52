/**
 * `--results-dir` (result-folder.ts): job images as files in a folder every cluster node shares. Job ids of any
 * spelling map to one folder name inside the folder and back; the marker token keeps a node with another folder
 * out; orphaned folders (no record in Redis) go after the TTL, live jobs' folders stay. Redis itself is stood in
 * for by a Map here (only SET NX and GET are used); cluster-redis.test.ts runs the folder on a real cluster.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RESULTS_TOKEN_KEY, ResultFolder } from '../src/services/jobs/redis/result-folder.ts';

const fresh = () => new ResultFolder(mkdtempSync(join(tmpdir(), 'sdapi-results-')));

/** SET key value NX and GET on a Map, as Redis answers them. */
function fakeRedis(store = new Map<string, string>()) {
  return async (command: string, args: (string | number)[]) => {
    const [key, value] = args.map(String);
    if (command === 'GET') return store.get(key) ?? null;
    if (command === 'SET' && args[2] === 'NX') {
      if (store.has(key)) return null;
      store.set(key, value);
      return 'OK';
    }
    throw new Error(`unexpected ${command}`);
  };
}

test('any job id is one folder inside the results folder, and its files read back', async () => {
  const folder = fresh();
  const ids = [
    'task(txt2img-ABC1234)',
    '../../etc',
    'a/b\\c',
    '..',
    '.',
    'x%2Fy',
    'ünï cødé 🎨',
    'lone \uD800 surrogate',
    'plain-id_1~(2)',
    '長'.repeat(100),
    'x'.repeat(300),
  ];
  for (const [i, id] of ids.entries()) await folder.write(id, `${i}.png`, Uint8Array.of(i));
  const names = readdirSync(folder.dir);
  assert.equal(names.length, ids.length, `one folder per id: ${names.join(' ')}`);
  for (const name of names) {
    assert.match(name, /^[A-Za-z0-9_()~%-]+$/, 'no separator, no dot: nothing can leave the folder');
    assert.ok(name.length <= 200, `a name a file system takes: ${name.length} characters`);
  }
  for (const [i, id] of ids.entries()) assert.deepEqual(await folder.read(id, `${i}.png`), Uint8Array.of(i), id);
  assert.equal(await folder.read(ids[0], '7.png'), undefined, 'a missing image is undefined');
  await folder.remove('../../etc');
  assert.equal(await folder.read('../../etc', '1.png'), undefined);
  assert.equal(readdirSync(folder.dir).length, ids.length - 1);
});

test('the marker token: the first node claims the folder; the same folder joins; another folder is refused', async () => {
  const redis = fakeRedis();
  const shared = fresh();
  await shared.claim(redis);
  const token = await redis('GET', [RESULTS_TOKEN_KEY]);
  assert.equal(readFileSync(join(shared.dir, '.sdapi-results'), 'utf8').trim(), token);
  await new ResultFolder(shared.dir).claim(redis); // a second node on the same folder
  await assert.rejects(
    fresh().claim(redis),
    (e: Error) => e.name === 'ConfigError' && /not the folder the cluster's other nodes use: its \.sdapi-results file is missing/.test(e.message),
  );
  // Nodes started together on a fresh folder: whichever sets the token, every one accepts the folder.
  const together = fakeRedis();
  const fresher = fresh();
  await Promise.all(Array.from({ length: 4 }, () => new ResultFolder(fresher.dir).claim(together)));
  assert.equal(readFileSync(join(fresher.dir, '.sdapi-results'), 'utf8').trim(), await together('GET', [RESULTS_TOKEN_KEY]));
  // A Redis that lost its keys takes the folder's token again rather than refusing it.
  const emptied = fakeRedis();
  await new ResultFolder(shared.dir).claim(emptied);
  assert.equal(await emptied('GET', [RESULTS_TOKEN_KEY]), token);
});

test('a results folder this node cannot write to is refused at start (a file where the folder should be)', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'sdapi-results-file-'));
  writeFileSync(join(parent, 'shared'), 'not a folder');
  await assert.rejects(
    new ResultFolder(join(parent, 'shared')).claim(fakeRedis()),
    (e: Error) => e.name === 'ConfigError' && /cannot be written here/.test(e.message),
  );
});

test('orphans: folders of jobs Redis no longer has go once older than the TTL; live and young ones stay; once an hour', async () => {
  const folder = fresh();
  for (const id of ['live-old', 'gone-old', 'gone-young', 'y'.repeat(300)]) await folder.write(id, '0.png', Uint8Array.of(1));
  const hashed = readdirSync(folder.dir).find((n) => n.startsWith('%~')) as string;
  const now = Date.now();
  const dayAgo = (now - 86_400_000) / 1000;
  for (const name of ['live-old', 'gone-old', hashed]) utimesSync(join(folder.dir, name), dayAgo, dayAgo);
  const hasJob = async (id: string) => id.startsWith('live');
  assert.equal(await folder.sweepOrphans(hasJob, 3600_000, now), 1);
  assert.deepEqual(readdirSync(folder.dir).sort(), [hashed, 'gone-young', 'live-old'].sort(), 'a hashed name (its id unreadable) goes with its record only');
  utimesSync(join(folder.dir, 'gone-young'), dayAgo, dayAgo);
  assert.equal(await folder.sweepOrphans(hasJob, 3600_000, now + 1000), 0, 'not again within the hour');
  assert.equal(await folder.sweepOrphans(hasJob, 3600_000, now + 3600_001), 1);
  assert.deepEqual(readdirSync(folder.dir).sort(), [hashed, 'live-old'].sort());
});
