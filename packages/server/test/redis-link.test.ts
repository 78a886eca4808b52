/**
 * `--redis` URLs (issue 15): checked for a redis:// or rediss:// scheme and a numeric db, then parsed by ioredis
 * (user, password, db, and TLS for rediss://). No Redis server is needed: nothing connects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRedisUrl, openRedis } from '../src/services/jobs/redis/link.ts';

test('redis:// and rediss:// URLs are parsed by ioredis; rediss:// turns TLS on', () => {
  const tls = openRedis(checkRedisUrl('rediss://us%40er:p%3Ass@h.example:6380/3'));
  const plain = openRedis(checkRedisUrl('redis://:secret@10.0.0.2/1'));
  try {
    const { host, port, db, username, password } = tls.options;
    assert.deepEqual({ host, port, db, username, password }, { host: 'h.example', port: 6380, db: 3, username: 'us@er', password: 'p:ss' });
    assert.ok(tls.options.tls, 'rediss:// enables TLS');
    assert.equal(plain.options.tls, undefined);
    assert.deepEqual([plain.options.host, plain.options.port, plain.options.db, plain.options.password], ['10.0.0.2', 6379, 1, 'secret']);
  } finally {
    tls.disconnect();
    plain.disconnect();
  }
});

test('a --redis value that is not a redis:// URL is refused naming it', () => {
  assert.throws(() => checkRedisUrl('localhost:6379'), /--redis must use the redis:\/\/ or rediss:\/\/ \(TLS\) scheme, got 'localhost:6379'/);
  assert.throws(() => checkRedisUrl('127.0.0.1:6379'), /--redis must be a URL like redis:\/\/127.0.0.1:6379\/0, got '127.0.0.1:6379'/);
  assert.throws(() => checkRedisUrl('http://h:6379/0'), /redis:\/\/ or rediss:\/\//);
  assert.throws(() => checkRedisUrl('not a url'), /--redis must be a URL like redis:\/\/127.0.0.1:6379\/0, got 'not a url'/);
  assert.throws(() => checkRedisUrl('redis://h:6379/x'), /--redis database must be a number, got 'x'/);
});
