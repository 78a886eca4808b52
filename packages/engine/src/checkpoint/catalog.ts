/**
 * Checkpoint discovery and naming with A1111's behaviour (spec §3.13, §9.1, §9.3, §9.4): which files are listed
 * and in what order, their `name` / `model_name` / `title` / hashes, the exact alias table used by
 * `sd_model_checkpoint`, and the fuzzy lookup used by `hr_checkpoint_name` and friends. `.ckpt` files are listed
 * (A1111 lists them) but flagged; loading one is refused by the loader.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import { realFolder, realPathInside } from './folder.ts';
import { cachedSha256, checkpointShortHash, type HashCache, legacyModelHash } from './hashes.ts';

export interface CheckpointEntry {
  /** Absolute path. */
  readonly filename: string;
  /** Path relative to its checkpoint folder, native separators (`sub/dir/foo.safetensors`); else the base name. */
  readonly name: string;
  /** `name` with separators → `_`, extension removed (`sub_dir_foo`). */
  readonly model_name: string;
  /** Base name without extension (`foo`): infotext `Model`, `info.sd_model_name`. */
  readonly name_for_extra: string;
  /** Legacy 8-hex model hash (a lookup alias only). */
  readonly hash: string;
  /** Full SHA-256 and its 10-hex short form: null until hashed (or found in the cache). */
  sha256: string | null;
  shorthash: string | null;
  /** `"<name> [<shorthash>]"` once hashed, else `name`. */
  title: string;
  short_title: string;
  /** A `.yaml` next to the file with the same base name, else null. */
  readonly config: string | null;
  /** `ckpt` entries are listed but never loaded (pickles can run code). */
  readonly format: 'safetensors' | 'ckpt';
}

export interface CatalogOptions {
  /** The `<models>` root; checkpoints live in `<models>/Stable-diffusion`. */
  modelsDir: string;
  /** `--ckpt-dir`: an additional checkpoint folder. */
  ckptDir?: string | null;
  /** `--ckpt`: a checkpoint file listed first (when it exists). */
  ckpt?: string | null;
  /** `cache.json`: hashes found there show up in titles right away, as in A1111. */
  cache?: HashCache | null;
}

/** `/sdapi/v1/sd-models` item (protocol `SDModelItem`). */
export interface SdModelItem {
  title: string;
  model_name: string;
  hash: string | null;
  sha256: string | null;
  filename: string;
  config: string | null;
}

const EXTENSIONS = new Set(['.ckpt', '.safetensors']);
// Case-sensitive on purpose: A1111 tests these suffixes with str.endswith.
const EXCLUDED_SUFFIXES = ['.vae.ckpt', '.vae.safetensors'];

export class CheckpointCatalog {
  private readonly byTitle = new Map<string, CheckpointEntry>();
  private readonly aliases = new Map<string, CheckpointEntry>();

  private constructor(private readonly options: CatalogOptions) {}

  /** Lists `--ckpt` first (if it exists), then `--ckpt-dir/**`, then `<models>/Stable-diffusion/**`. */
  static scan(options: CatalogOptions): CheckpointCatalog {
    const catalog = new CheckpointCatalog(options);
    for (const filename of discoverCheckpoints(options)) catalog.register(makeEntry(filename, options));
    return catalog;
  }

  /** Entries in discovery order (a later file with the same title replaces the earlier one in place). */
  list(): CheckpointEntry[] {
    return [...this.byTitle.values()];
  }

  /** §9.3 exact alias lookup: case-sensitive, last registered wins. */
  get(alias: string): CheckpointEntry | undefined {
    return this.aliases.get(alias);
  }

  /** §9.4: exact alias, else the shortest title containing `search`, else the same without a trailing ` […]`. */
  match(search: string): CheckpointEntry | undefined {
    if (!search) return undefined;
    const exact = this.aliases.get(search);
    if (exact) return exact;
    return this.shortestTitleContaining(search) ?? this.shortestTitleContaining(search.replace(/\s\[[^\]]*\]$/, ''));
  }

  /**
   * Computes (or reads from the cache) the entry's SHA-256 and updates its title and aliases, keeping its place in
   * the list. Returns null with `noHashing` when nothing is cached.
   */
  async hash(entry: CheckpointEntry, opts: { noHashing?: boolean } = {}): Promise<string | null> {
    const sha256 = await cachedSha256(entry.filename, `checkpoint/${entry.name}`, { cache: this.options.cache, noHashing: opts.noHashing });
    if (sha256 === null || entry.sha256 === sha256) return sha256;
    const oldTitle = entry.title;
    setHash(entry, sha256);
    // Rebuild the map so the renamed entry keeps its position.
    const entries = [...this.byTitle];
    this.byTitle.clear();
    for (const [title, e] of entries) this.byTitle.set(title === oldTitle ? entry.title : title, e);
    this.register(entry);
    return sha256;
  }

  private shortestTitleContaining(needle: string): CheckpointEntry | undefined {
    let best: CheckpointEntry | undefined;
    for (const e of this.byTitle.values()) if (e.title.includes(needle) && (!best || e.title.length < best.title.length)) best = e;
    return best;
  }

  private register(entry: CheckpointEntry): void {
    this.byTitle.set(entry.title, entry);
    for (const id of aliasesOf(entry)) this.aliases.set(id, entry);
  }
}

/** The `/sd-models` view of an entry (`hash` is the 10-hex short hash). */
export function toSdModelItem(entry: CheckpointEntry): SdModelItem {
  return { title: entry.title, model_name: entry.model_name, hash: entry.shorthash, sha256: entry.sha256, filename: entry.filename, config: entry.config };
}

/** §9.3 aliases in registration order. */
export function aliasesOf(e: CheckpointEntry): string[] {
  const ids = [e.hash, e.model_name, e.title, e.name, e.name_for_extra, `${e.name} [${e.hash}]`];
  if (e.shorthash && e.sha256) ids.push(e.shorthash, e.sha256, `${e.name} [${e.shorthash}]`, `${e.name_for_extra} [${e.shorthash}]`);
  return ids;
}

function setHash(entry: CheckpointEntry, sha256: string): void {
  entry.sha256 = sha256;
  entry.shorthash = checkpointShortHash(sha256);
  entry.title = `${entry.name} [${entry.shorthash}]`;
  entry.short_title = `${entry.name_for_extra} [${entry.shorthash}]`;
}

function isInside(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function makeEntry(filename: string, options: CatalogOptions): CheckpointEntry {
  const abs = resolve(filename);
  const ckptDir = options.ckptDir ? resolve(options.ckptDir) : null;
  const modelPath = resolve(options.modelsDir, 'Stable-diffusion');
  const name = ckptDir && isInside(abs, ckptDir) ? relative(ckptDir, abs) : isInside(abs, modelPath) ? relative(modelPath, abs) : basename(abs);
  const flat = name.replace(/[\\/]/g, '_');
  const yaml = `${abs.slice(0, abs.length - extname(abs).length)}.yaml`;
  const entry: CheckpointEntry = {
    filename: abs,
    name,
    model_name: flat.slice(0, flat.length - extname(flat).length),
    name_for_extra: basename(abs, extname(abs)),
    hash: legacyModelHash(abs),
    sha256: null,
    shorthash: null,
    title: name,
    short_title: basename(abs, extname(abs)),
    config: existsSync(yaml) ? yaml : null,
    format: extname(abs).toLowerCase() === '.ckpt' ? 'ckpt' : 'safetensors',
  };
  const cached = options.cache?.lookup(`checkpoint/${name}`, abs) ?? null;
  if (cached) setHash(entry, cached);
  return entry;
}

function discoverCheckpoints(options: CatalogOptions): string[] {
  const found: string[] = [];
  if (options.ckpt && existsSync(options.ckpt)) found.push(resolve(options.ckpt));
  const modelPath = resolve(options.modelsDir, 'Stable-diffusion');
  // A1111 (modelloader.load_models) walks the --ckpt-dir before the models folder.
  const places = options.ckptDir && resolve(options.ckptDir) !== modelPath ? [resolve(options.ckptDir), modelPath] : [modelPath];
  const listed = new Set<string>();
  for (const place of places) {
    for (const file of walkFiles(place)) {
      if (EXCLUDED_SUFFIXES.some((s) => file.endsWith(s)) || listed.has(file)) continue;
      listed.add(file);
      found.push(file);
    }
  }
  return found;
}

/**
 * Files with one of `extensions` under `root`: folders in natural order of their path, files natural within.
 * Symlinks are followed only while their target stays inside `root` (folder.ts); each real folder is visited once.
 */
export function walkFiles(root: string, extensions: ReadonlySet<string> = EXTENSIONS): string[] {
  const realRoot = realFolder(root);
  if (!realRoot) return [];
  const folders: Array<{ dir: string; files: string[] }> = [];
  const seen = new Set<string>();
  const visit = (dir: string, real: string) => {
    if (seen.has(real)) return; // symlink cycle
    seen.add(real);
    const files: string[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const target = realPathInside(realRoot, path); // null: a link out of the folder, or a broken one
      if (!target) continue;
      const stat = statSync(target, { throwIfNoEntry: false });
      if (stat?.isDirectory()) visit(path, target);
      else if (stat?.isFile() && extensions.has(extname(name).toLowerCase())) files.push(path);
    }
    folders.push({ dir, files: files.sort((a, b) => compareNatural(basename(a), basename(b))) });
  };
  visit(root, realRoot);
  folders.sort((a, b) => compareNatural(a.dir, b.dir));
  return folders.flatMap((f) => f.files);
}

/** A1111's natural sort: digit runs compare as numbers, the rest case-insensitively. */
export function compareNatural(a: string, b: string): number {
  const key = (s: string) => s.split(/(\d+)/).map((part, i) => (i % 2 ? Number(part) : part.toLowerCase()));
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  }
  return ka.length - kb.length;
}
