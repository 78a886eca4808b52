/**
 * The ControlNet model list as sd-webui-controlnet v1.1.455 builds it (spec controlnet-api.md §10.1–§10.2):
 * folders scanned recursively in order, files sorted by basename within each, display name `stem [hash8]` with
 * A1111's legacy 8-hex hash, one entry per lower-cased basename, and the extension's lenient name matching.
 */
import { basename, extname } from 'node:path';
import { walkFiles } from './catalog.ts';
import { fileMtime, legacyModelHash } from './hashes.ts';

const EXTENSIONS = new Set(['.pt', '.pth', '.ckpt', '.safetensors', '.bin']);

export interface ControlNetEntry {
  /** `stem [hash8]`, as `/controlnet/model_list` shows it. */
  name: string;
  /** Absolute path. */
  filename: string;
}

export class ControlNetCatalog {
  private readonly hashes = new Map<string, { mtime: number; hash: string }>();
  private entries: ControlNetEntry[] = [];

  /** `dirs`: `<data-dir>/models/ControlNet` first, then `--controlnet-dir` (earlier folders win on equal names). */
  constructor(private readonly dirs: readonly string[]) {
    this.rescan();
  }

  /** Re-reads the folders (the extension does so on every `model_list?update=true`). */
  rescan(): ControlNetEntry[] {
    const byBase = new Map<string, ControlNetEntry>();
    const names = new Set<string>();
    for (const dir of this.dirs) {
      const files = walkFiles(dir, EXTENSIONS).sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
      for (const filename of files) {
        const stem = basename(filename, extname(filename));
        if (stem === 'None') continue;
        const name = `${stem} [${this.hash(filename)}]`;
        if (names.has(name)) continue; // an earlier folder already has this display name
        names.add(name);
        byBase.set(basename(filename).toLowerCase(), { name, filename }); // a later same basename replaces, in place
      }
    }
    this.entries = [...byBase.values()];
    return this.entries;
  }

  list(): readonly ControlNetEntry[] {
    return this.entries;
  }

  /**
   * §10.2: an exact display name; else a case-insensitive stem; else the shortest stem containing the text.
   * Returns undefined for "None" and for no match.
   */
  find(model: string): ControlNetEntry | undefined {
    if (!model || model === 'None') return undefined;
    const exact = this.entries.find((e) => e.name === model);
    if (exact) return exact;
    const wanted = model.toLowerCase();
    const stem = (e: ControlNetEntry) => basename(e.filename, extname(e.filename)).toLowerCase();
    const same = this.entries.find((e) => stem(e) === wanted);
    if (same) return same;
    const containing = this.entries.filter((e) => stem(e).includes(wanted));
    return containing.sort((a, b) => stem(a).length - stem(b).length)[0];
  }

  private hash(filename: string): string {
    const mtime = fileMtime(filename);
    const cached = this.hashes.get(filename);
    if (cached && cached.mtime === mtime) return cached.hash;
    const hash = legacyModelHash(filename);
    this.hashes.set(filename, { mtime, hash });
    return hash;
  }
}
