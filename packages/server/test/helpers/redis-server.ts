/**
 * A throwaway redis-server for the cluster tests, the worker test and the cluster bench: Debian's binary on a free
 * port with its files in a given folder, ready once it says so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Why a test that needs Redis skips, or false. */
export const noRedis = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does it)';

/** A TCP port that was free a moment ago (bound to port 0, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server on 127.0.0.1:`port` with its files in `dir` (no RDB snapshots; `extra` adds flags such as
 * `--appendonly yes` or `--requirepass`) and resolves once it accepts connections.
 */
export async function startRedisServer(port: number, dir: string, extra: string[] = []): Promise<ChildProcess> {
  if (!REDIS_SERVER) throw new Error(noRedis as string);
  const redis = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for await (const line of createInterface({ input: redis.stdout as NodeJS.ReadableStream })) {
    if (line.includes('Ready to accept connections')) return redis;
  }
  throw new Error('redis-server exited before it was ready');
}
