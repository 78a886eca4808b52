/**
 * The settings of a cluster (issue 15), shared through Redis so that `POST /sdapi/v1/options` on any API node
 * applies to every node and worker, as it does on one A1111 server: a hash `sdapi:options` (option key → its
 * JSON value, as config.json would hold it) and a version counter `sdapi:options:version`.
 *
 * - join (at start): the node adopts the cluster's settings; the first node of an empty Redis seeds them from its
 *   own config.json. The version starts from Redis's clock, so a counter seeded again after Redis lost it never
 *   repeats a number a node still holds.
 * - publish (after a POST /options here, or a job that keeps its override_settings): the values set, in one
 *   script with the version bump, so two nodes changing different keys at once lose neither; if Redis lost the
 *   settings meanwhile, this node seeds them again first.
 * - refresh (before a worker runs a job, before GET /options answers, before a POST changes anything): one round
 *   trip; the hash is read only when the version moved. A POST answers after its publish, so a job submitted after
 *   it runs with it.
 * A node writes the cluster's settings into its own config.json when it saves them (a POST there).
 */
import type { OptionsStore } from '../../options-store.ts';
import type { RedisLink } from './link.ts';

const HASH = 'sdapi:options';
const VERSION = 'sdapi:options:version';

/** KEYS: hash, version; ARGV: key/value pairs. Seeds only an empty cluster; returns [version, hash as a flat list]. */
const JOIN = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
  local now = redis.call('TIME')
  redis.call('SET', KEYS[2], now[1] .. string.format('%06d', now[2]))
end
return {redis.call('GET', KEYS[2]), redis.call('HGETALL', KEYS[1])}`;

/**
 * KEYS: hash, version; ARGV: key/value pairs (value '' deletes the key). Returns the new version, or false when
 * Redis lost the settings (the caller seeds them again: a bare INCR would make a partial hash the cluster's).
 */
const PUBLISH = `
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
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
    /** The error for Redis being unreachable (the cluster's 503 with Retry-After). */
    private readonly unavailable: () => Error,
  ) {}

  /** Throws the 503 while Redis is away (before a change that could not be shared). */
  assertAvailable(): void {
    if (!this.link.up) throw this.unavailable();
  }

  async join(): Promise<void> {
    const seed = Object.entries(this.store.storedValues()).flatMap(([key, value]) => [key, JSON.stringify(value)]);
    const [version, flat] = (await this.send([JOIN, 2, HASH, VERSION, ...seed])) as [string, string[]];
    this.adopt(version, flat);
  }

  /** Shares `values` (undefined: the key is unset); they are what the change decided, not re-read from the store. */
  async publish(values: Record<string, unknown>): Promise<void> {
    const pairs = Object.entries(values).flatMap(([key, value]) => [key, value === undefined ? '' : JSON.stringify(value)]);
    if (pairs.length === 0) return;
    let version = await this.send([PUBLISH, 2, HASH, VERSION, ...pairs]);
    if (version === null) {
      await this.join(); // Redis lost the settings: this node's seed them again, then the change goes on top
      version = await this.send([PUBLISH, 2, HASH, VERSION, ...pairs]);
    }
    // Only this node's own write moved the version past what it held: nothing else to read.
    if (Number(version) === Number(this.version) + 1) this.version = String(version);
    else await this.refresh();
  }

  async refresh(): Promise<void> {
    const [version, flat] = (await this.send([REFRESH, 2, HASH, VERSION, this.version])) as [string?, string[]?];
    // Redis lost them: this node's (the cluster's as last read) seed them again rather than every node resetting.
    if (version === undefined) await this.join();
    else if (flat) this.adopt(version, flat);
  }

  private async send(args: (string | number)[]): Promise<unknown> {
    try {
      return await this.link.send('EVAL', args);
    } catch {
      throw this.unavailable();
    }
  }

  private adopt(version: string, flat: string[]): void {
    const data: Record<string, unknown> = {};
    for (let i = 0; i < flat.length; i += 2) data[flat[i]] = JSON.parse(flat[i + 1]);
    this.store.adopt(data);
    this.version = String(version);
  }
}
