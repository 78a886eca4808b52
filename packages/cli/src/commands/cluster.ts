/** `--redis URL` (issue 15): the cluster connection `sdapi serve` and `sdapi worker` share. */
import { type Generator, RedisCluster, type RetentionPolicy } from '@sdapi/server';
import { maskPassword } from '../flags.ts';
import { CliError, EXIT } from '../output.ts';

const DEFAULT_IMAGE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Connects to Redis (fails at start with the URL when it is unreachable); undefined without `--redis`. */
export async function connectCluster(
  url: string | undefined,
  worker: boolean,
  generator: Generator,
  retention: RetentionPolicy | undefined,
): Promise<RedisCluster | undefined> {
  if (!url) return undefined;
  const cluster = new RedisCluster({
    url,
    worker,
    imageTtlMs: retention?.maxAgeMs ?? DEFAULT_IMAGE_TTL_MS,
    loadedModel: () => generator.currentCheckpoint()?.name ?? null,
    log: (line) => console.log(line),
  });
  try {
    await cluster.connect();
  } catch (error) {
    throw new CliError(`--redis ${maskPassword(url)}: ${(error as Error).message}`, EXIT.UNREACHABLE, 'is Redis running and reachable at that address?');
  }
  console.log(`sdapi: jobs go through Redis at ${maskPassword(url)} as ${worker ? 'an API node with a worker' : 'an API-only node'} (${cluster.workerId})`);
  return cluster;
}
