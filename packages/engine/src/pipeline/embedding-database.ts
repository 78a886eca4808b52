/**
 * The textual-inversion embeddings folder(s) (spec §6.9; A1111 `<data-dir>/embeddings`, `--embeddings-dir`):
 * which files count, reading them, and rescanning when they change. Model-independent: which embeddings a
 * loaded model can use is pipeline/textual-inversion.ts's business.
 *
 * Formats: `.safetensors` are read (checkpoint/embedding-file.ts). Pickled `.pt`/`.bin` files are listed as
 * skipped and never unpickled. A `.png` carrying A1111's `sd-ti-embedding` text chunk is listed as skipped too
 * (embeddings in images are not read yet); other images (`.webp`/`.jxl`/`.avif`, plain previews) are ignored,
 * like A1111 ignores images without embedding data.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { realFolder, realPathInside } from '../checkpoint/folder.ts';
import { type EmbeddingVectors, readEmbeddingSafetensors } from '../checkpoint/embedding-file.ts';
import { readTextChunks } from '../image/png.ts';

/** A readable embedding file. */
export interface EmbeddingEntry {
  /** File base name without extension: the word prompts use. */
  name: string;
  filename: string;
  data: EmbeddingVectors;
}

/** A file in the folder that is not used, with why. */
export interface UnreadableEmbedding {
  name: string;
  filename: string;
  reason: string;
}

export const PICKLE_REASON = 'pickled embeddings are not loaded; convert to .safetensors';
const IMAGE_REASON = 'embeddings stored in images are not loaded yet; use the .safetensors version of this embedding';
const IMAGE_EXTENSIONS = new Set(['.png', '.webp', '.jxl', '.avif']);

interface Candidate {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Every regular file under `dir` (recursively, sorted by path); a missing folder has none. Links are followed
 * (A1111: os.walk(followlinks=True)) only while they stay inside the folder, each real folder once (no loops).
 */
function walk(dir: string, out: Candidate[] = [], realRoot = realFolder(dir), seen = new Set<string>()): Candidate[] {
  if (!realRoot) return out;
  const real = realPathInside(realRoot, dir);
  if (!real || seen.has(real)) return out;
  seen.add(real);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    const target = realPathInside(realRoot, path);
    if (!target) continue; // outside the folder, or broken
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(target);
    } catch {
      continue;
    }
    if (stat.isDirectory()) walk(path, out, realRoot, seen);
    else if (stat.isFile() && stat.size > 0) out.push({ path, size: stat.size, mtimeMs: stat.mtimeMs }); // A1111 skips empty files
  }
  return out;
}

type Loaded = { entry: EmbeddingEntry } | { unreadable: UnreadableEmbedding } | null;

/** Reads one candidate: an entry, a reason it cannot be used, or null when the file is not an embedding at all. */
function loadFile(path: string): Loaded {
  const ext = extname(path).toLowerCase();
  const name = basename(path, extname(path));
  if (ext === '.safetensors') {
    try {
      return { entry: { name, filename: path, data: readEmbeddingSafetensors(path) } };
    } catch (error) {
      return { unreadable: { name, filename: path, reason: (error as Error).message } };
    }
  }
  if (ext === '.pt' || ext === '.bin') return { unreadable: { name, filename: path, reason: PICKLE_REASON } };
  if (!IMAGE_EXTENSIONS.has(ext) || extname(name).toLowerCase() === '.preview') return null;
  return ext === '.png' && pngHasEmbedding(path) ? { unreadable: { name, filename: path, reason: IMAGE_REASON } } : null;
}

function pngHasEmbedding(path: string): boolean {
  try {
    return 'sd-ti-embedding' in readTextChunks(readFileSync(path));
  } catch {
    return false;
  }
}

/**
 * The embeddings under some folders, reloaded when a file appears, disappears or changes (A1111 checks the
 * folder's mtime before each job; comparing every file's size and mtime also catches edits in sub-folders).
 * @example
 * const db = new EmbeddingDatabase(['/data/embeddings']);
 * db.refresh();
 * db.entries.map((e) => e.name) // ['easynegative', …]
 */
export class EmbeddingDatabase {
  entries: EmbeddingEntry[] = [];
  unreadable: UnreadableEmbedding[] = [];
  /** Bumped on every reload, so model-specific views know when to rebuild. */
  generation = 0;
  private signature: string | null = null;

  constructor(readonly dirs: readonly string[]) {}

  /** Rescans the folders and reloads when anything changed, or always with `force`; returns whether it reloaded. */
  refresh(force = false): boolean {
    const candidates = this.dirs.flatMap((dir) => walk(dir));
    const signature = JSON.stringify(candidates);
    if (!force && signature === this.signature) return false;
    const entries: EmbeddingEntry[] = [];
    const unreadable: UnreadableEmbedding[] = [];
    for (const { path } of candidates) {
      const loaded = loadFile(path);
      if (loaded && 'entry' in loaded) entries.push(loaded.entry);
      else if (loaded) unreadable.push(loaded.unreadable);
    }
    this.entries = entries;
    this.unreadable = unreadable;
    this.signature = signature;
    this.generation++;
    return true;
  }
}
