/**
 * The settings of a cluster (issue 15), shared through Redis so that `POST /sdapi/v1/options` on any API node
 * applies to every node and worker, as it does on one A1111 server: a hash `sdapi:options` (option key → its
 * JSON value, as config.json would hold it) and a version counter `sdapi:options:version`.
 *
 * - join (at start): the node adopts the cluster's settings; the first node of an empty Redis seeds them from its
 *   own config.json.
 * - publish (after a POST /options here): the keys it set, in one script with the version bump, so two nodes
 *   changing different keys at once lose neither.
 * - refresh (before a worker runs a job, and before GET /options answers): one round trip; the hash is read only
 *   when the version moved. A POST /options returns after its publish, so a job submitted after it runs with it.
 *
 * Settings a job changes with `override_settings_restore_afterwards: false` stay on the worker that ran it, and
 * each node's config.json is left as it was (Redis holds the cluster's settings).
 */
import type { OptionsStore } from '../../options-store.ts';
import type { RedisLink } from './link.ts';

const HASH = 'sdapi:options';
const VERSION = 'sdapi:options:version';

/** KEYS: hash, version; ARGV: key/value pairs. Seeds only an empty cluster; returns [version, hash as a flat list]. */
const JOIN = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
  redis.call('SET', KEYS[2], 1)
end
return {redis.call('GET', KEYS[2]), redis.call('HGETALL', KEYS[1])}`;

/** KEYS: hash, version; ARGV: key/value pairs (value '' deletes the key). Returns the new version. */
const PUBLISH = `
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return redis.call('INCR', KEYS[2])`;

/**
 * KEYS: hash, version; ARGV: the version held. Returns [version] when unchanged, [version, hash as a flat list]
 * when changed, and [] when Redis lost the settings (a restart without persistence).
 */
const REFRESH = `
local version = redis.call('GET', KEYS[2])
if not version then return {} end
if version == ARGV[1] then return {version} end
return {version, redis.call('HGETALL', KEYS[1])}`;

export class SharedOptions {
  private version = '0';

  constructor(
    private readonly link: RedisLink,
    private readonly store: OptionsStore,
    /** false on an API-only node (sd-service.ts SharedSettings). */
    readonly runsJobs: boolean,
  ) {}

  async join(): Promise<void> {
    const seed = Object.entries(this.store.storedValues()).flatMap(([key, value]) => [key, JSON.stringify(value)]);
    const [version, flat] = (await this.link.send('EVAL', [JOIN, 2, HASH, VERSION, ...seed])) as [string, string[]];
    this.adopt(version, flat);
  }

  async publish(keys: readonly string[]): Promise<void> {
    const stored = this.store.storedValues();
    const pairs = keys.flatMap((key) => [key, Object.hasOwn(stored, key) ? JSON.stringify(stored[key]) : '']);
    if (pairs.length === 0) return;
    const version = await this.link.send('EVAL', [PUBLISH, 2, HASH, VERSION, ...pairs]);
    // Only this node's own write moved the version past what it held: nothing else to read.
    if (Number(version) === Number(this.version) + 1) this.version = String(version);
    else await this.refresh();
  }

  async refresh(): Promise<void> {
    const [version, flat] = (await this.link.send('EVAL', [REFRESH, 2, HASH, VERSION, this.version])) as [string?, string[]?];
    // Redis lost them: this node's (the cluster's as last read) seed them again rather than every node resetting.
    if (version === undefined) await this.join();
    else if (flat) this.adopt(version, flat);
  }

  private adopt(version: string, flat: string[]): void {
    const data: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) data[flat[i]] = JSON.parse(flat[i + 1]);
    this.store.adopt(data);
    this.version = String(version);
  }
}
