/** `--redis URL` (issue 15): the cluster connection `sdapi serve` and `sdapi worker` share. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Generator, RedisCluster, type RetentionPolicy } from '@sdapi/server';
import { maskPassword } from '../flags.ts';
import { CliError, EXIT } from '../output.ts';

const DEFAULT_IMAGE_TTL_MS = 7 * 24 * 3600 * 1000;

export const RESULTS_DIR_HELP = `  --results-dir DIR      with --redis: job images in DIR, a folder every node shares (NFS, a shared volume),
                         instead of in Redis; give every API node and worker the same folder`;

/**
 * `--results-dir`: an existing folder (a typo would otherwise make a private one no other node reads), as an
 * absolute path; only with --redis. Checked with the other flags, before anything is written.
 */
export function resultsDirFlag(dir: string | undefined, url: string | undefined): string | undefined {
  if (dir === undefined) return undefined;
  if (!url) throw new CliError('--results-dir is for a cluster (--redis URL); without Redis, images are kept in the data folder', EXIT.USAGE);
  const path = resolve(dir);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    throw new CliError(`--results-dir ${dir}: no such folder`, EXIT.USAGE, 'create it (on the shared volume) first');
  }
  return path;
}

/** Connects to Redis (fails at start with the URL when it is unreachable); undefined without `--redis`. */
export async function connectCluster(
  url: string | undefined,
  worker: boolean,
  generator: Generator,
  retention: RetentionPolicy | undefined,
  /** From `resultsDirFlag`. */
  folder?: string,
): Promise<RedisCluster | undefined> {
  if (!url) return undefined;
  const cluster = new RedisCluster({
    url,
    worker,
    imageTtlMs: retention?.maxAgeMs ?? DEFAULT_IMAGE_TTL_MS,
    resultsDir: folder,
    loadedModel: () => generator.currentCheckpoint()?.name ?? null,
    log: (line) => console.log(line),
  });
  try {
    await cluster.connect();
  } catch (error) {
    if ((error as Error).name === 'ConfigError') throw error; // a wrong --results-dir: a usage error (exit 2), not an outage
    throw new CliError(`--redis ${maskPassword(url)}: ${(error as Error).message}`, EXIT.UNREACHABLE, 'is Redis running and reachable at that address?');
  }
  console.log(`sdapi: jobs go through Redis at ${maskPassword(url)} as ${worker ? 'an API node with a worker' : 'an API-only node'} (${cluster.workerId})`);
  if (folder) console.log(`sdapi: job images go to ${folder}`);
  return cluster;
}
