/**
 * The LoRA / LyCORIS files a server can use, found and named as A1111 v1.10.1's Lora extension does (spec §3.26,
 * §6.3): every `.safetensors` / `.pt` / `.ckpt` under the LoRA folders (subfolders too, natural order), named by
 * file stem, aliased by the `ss_output_name` metadata, with the safetensors `__metadata__` (JSON-looking values
 * parsed, A1111's favourite keys first). Unlike A1111, a file that cannot be used (pickle, malformed header, a
 * network type this engine does not implement) is listed with the reason instead of failing when a prompt uses it.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { walkFiles } from '../checkpoint/catalog.ts';
import { cachedSha256, type HashCache, networkShortHash } from '../checkpoint/hashes.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { checkNetworkHeader, type NetworkFile, readNetworkFile } from './network-file.ts';

export interface LoraEntry {
  /** File stem: what `<lora:NAME:…>` names. */
  readonly name: string;
  /** `ss_output_name` from the metadata, else the name. */
  readonly alias: string;
  /** Absolute path. */
  readonly path: string;
  /** The safetensors `__metadata__` (JSON-looking strings parsed), `{}` for other files. */
  readonly metadata: Record<string, unknown>;
  /** Why the file cannot be applied, or null when it can. */
  readonly error: string | null;
  readonly mtimeMs: number;
  readonly size: number;
}

export interface LoraCatalogOptions {
  /** Folders searched in order (A1111: `--lora-dir`, then `--lyco-dir-backcompat`). */
  dirs: readonly string[];
  /** `cache.json`, where addnet hashes are kept under `lora/<name>` (section "hashes-addnet"). */
  cache?: HashCache | null;
  /** `--no-hashing`: only cached (or `sshs_model_hash`) hashes are reported. */
  noHashing?: boolean;
}

const EXTENSIONS = new Set(['.safetensors', '.pt', '.ckpt']);
/** A1111 `metadata_tags_order`: these keys come first, in this order; the rest keep the file's order. */
const METADATA_ORDER: Readonly<Record<string, number>> = {
  ss_sd_model_name: 1,
  ss_resolution: 2,
  ss_clip_skip: 3,
  ss_num_train_images: 10,
  ss_tag_frequency: 20,
};
/** Aliases A1111 never resolves (`forbidden_network_aliases`, compared lower-cased). */
const FORBIDDEN_ALIASES = new Set(['none', 'addams']);
/** Parsed network files kept in memory (A1111 `lora_in_memory_limit` defaults to none; a few small files are cheap). */
const FILE_CACHE_LIMIT = 8;

export class LoraCatalog {
  private entries = new Map<string, LoraEntry>();
  private readonly files = new Map<string, NetworkFile>();
  /** Short hashes by file identity, so a repeated request does not even consult cache.json. */
  private readonly hashes = new Map<string, string | null>();

  constructor(private readonly options: LoraCatalogOptions) {
    this.refresh();
  }

  /** Re-reads the folders (POST /sdapi/v1/refresh-loras). */
  refresh(): void {
    const entries = new Map<string, LoraEntry>();
    for (const path of discover(this.options.dirs)) {
      const entry = makeEntry(path);
      entries.set(entry.name, entry); // a later file with the same stem replaces the earlier, in its place
    }
    this.entries = entries;
  }

  list(): LoraEntry[] {
    return [...this.entries.values()];
  }

  /**
   * `<lora:NAME>` lookup: the file stem, else an alias that exactly one file has (and that is not `none`/`Addams`).
   * An unknown name triggers one rescan first, as A1111 does, so files dropped in later are found.
   */
  find(name: string): LoraEntry | undefined {
    const found = this.lookup(name);
    if (found) return found;
    this.refresh();
    return this.lookup(name);
  }

  private lookup(name: string): LoraEntry | undefined {
    const byName = this.entries.get(name);
    if (byName) return byName;
    if (FORBIDDEN_ALIASES.has(name.toLowerCase())) return undefined;
    const byAlias = this.list().filter((e) => e.alias === name);
    return byAlias.length === 1 ? byAlias[0] : undefined;
  }

  /** The 12-hex short hash infotexts show: `sshs_model_hash` metadata, else the addnet hash (cached in cache.json). */
  async shortHash(entry: LoraEntry): Promise<string | null> {
    const stored = entry.metadata.sshs_model_hash;
    if (typeof stored === 'string' && stored !== '') return networkShortHash(stored);
    const id = `${entry.path}|${entry.size}|${entry.mtimeMs}`;
    const known = this.hashes.get(id);
    if (known !== undefined) return known;
    const addnet = extname(entry.path).toLowerCase() === '.safetensors';
    const sha256 = await cachedSha256(entry.path, `lora/${entry.name}`, { cache: this.options.cache, noHashing: this.options.noHashing, addnet });
    const short = sha256 ? networkShortHash(sha256) : null;
    if (short) this.hashes.set(id, short); // a null (--no-hashing) may be filled in cache.json later
    return short;
  }

  /** The parsed network (cached while the file's size and mtime stay the same); throws for an unusable file. */
  load(entry: LoraEntry): NetworkFile {
    if (entry.error) throw new Error(entry.error);
    const key = `${entry.path}|${entry.size}|${entry.mtimeMs}`;
    let file = this.files.get(key);
    if (!file) {
      file = readNetworkFile(entry.path);
      if (this.files.size >= FILE_CACHE_LIMIT) this.files.delete(this.files.keys().next().value as string);
      this.files.set(key, file);
    }
    return file;
  }
}

function makeEntry(path: string): LoraEntry {
  const stat = statSync(path);
  const name = basename(path, extname(path));
  const base = { name, path, mtimeMs: stat.mtimeMs, size: stat.size };
  if (extname(path).toLowerCase() !== '.safetensors') {
    const error = `${basename(path)} is a pickled file (.pt/.ckpt), which can run arbitrary code and is never loaded; use a .safetensors version`;
    return { ...base, alias: name, metadata: {}, error };
  }
  let file: SafetensorsFile | null = null;
  try {
    file = SafetensorsFile.open(path);
    const metadata = orderedMetadata(file.metadata);
    const alias = typeof metadata.ss_output_name === 'string' ? metadata.ss_output_name : name;
    let error: string | null = null;
    try {
      checkNetworkHeader(file);
    } catch (e) {
      error = (e as Error).message;
    }
    return { ...base, alias, metadata, error };
  } catch (e) {
    return { ...base, alias: name, metadata: {}, error: (e as Error).message };
  } finally {
    file?.close();
  }
}

/** A1111 read_metadata_from_safetensors + NetworkOnDisk ordering: `{…}` strings parsed, favourite keys first. */
export function orderedMetadata(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const parsed = Object.entries(raw).map(([k, v]): [string, unknown] => {
    if (typeof v === 'string' && v.startsWith('{')) {
      try {
        return [k, JSON.parse(v)];
      } catch {
        return [k, v]; // A1111 keeps the string when it is not JSON
      }
    }
    return [k, v];
  });
  const rank = (k: string) => METADATA_ORDER[k] ?? 999;
  parsed.sort((a, b) => rank(a[0]) - rank(b[0])); // stable: the others keep the file's order
  return Object.fromEntries(parsed);
}

/** Network files under `dirs`: each folder's files in natural order, folders in natural order of their path. */
function discover(dirs: readonly string[]): string[] {
  const found: string[] = [];
  const seenRoots = new Set<string>();
  for (const dir of dirs) {
    const root = resolve(dir);
    if (!existsSync(root) || seenRoots.has(root)) continue;
    seenRoots.add(root);
    found.push(...walkFiles(root, EXTENSIONS));
  }
  return found;
}
