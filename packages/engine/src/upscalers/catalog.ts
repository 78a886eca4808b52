/**
 * The model upscalers a user dropped in: `.safetensors` ESRGAN / Real-ESRGAN files in `models/ESRGAN` and
 * `models/RealESRGAN` (A1111's folders), listed by file stem as A1111 lists files it finds. We ship no weights and
 * fetch none, and read no pickles (`.pth`); a file that is not an RRDBNet is listed with its error. One model is
 * held at a time: a job that names another releases the first.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pixels } from '../image/compose.ts';
import { PIXEL_UPSCALERS } from '../image/resize.ts';
import { ModelUpscaler, type TileOptions } from './model-upscaler.ts';
import { readRrdbConfig } from './rrdbnet.ts';

export interface UpscalerEntry {
  /** File stem: the name requests use (`upscaler_1`, `hr_upscaler`). */
  name: string;
  path: string;
  /** The model's own factor (4 for R-ESRGAN 4x+), or null when the file is unusable. */
  scale: number | null;
  /** Why the file cannot be used, when it cannot. */
  error?: string;
}

/**
 * Model upscalers as the generation pipeline sees them (hires fix): which names it may use, and a run of one with
 * the job's options (their `ESRGAN_tile` / `ESRGAN_tile_overlap`).
 */
export interface ModelUpscalerHook {
  names(): string[];
  upscale(name: string, img: Pixels, scale: number, options: { ESRGAN_tile?: number; ESRGAN_tile_overlap?: number }, signal?: AbortSignal): Promise<Pixels>;
}

/**
 * Options `ESRGAN_tile` / `ESRGAN_tile_overlap` as tiling: a value that is not a whole number ≥ 0 falls back to
 * A1111's default (192 / 8), and an overlap not smaller than the tile to min(8, tile − 1).
 */
export function tileOptions(o: { ESRGAN_tile?: unknown; ESRGAN_tile_overlap?: unknown }): TileOptions {
  const whole = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback);
  const tile = whole(o.ESRGAN_tile, 192);
  const overlap = whole(o.ESRGAN_tile_overlap, 8);
  return { tile, overlap: tile > 0 && overlap >= tile ? Math.min(8, tile - 1) : overlap };
}

/** Whether requests may name this file: a usable model not named like a built-in upscaler (the built-in one wins). */
export const isUsableUpscaler = (e: UpscalerEntry): boolean => !e.error && !(PIXEL_UPSCALERS as readonly string[]).includes(e.name);

/** The folders A1111 reads model upscalers of this kind from, under a data folder. */
export const upscalerDirs = (dataDir: string) => [join(dataDir, 'models', 'ESRGAN'), join(dataDir, 'models', 'RealESRGAN')];

export class UpscalerCatalog {
  private entries: UpscalerEntry[] = [];
  private loaded: ModelUpscaler | null = null;

  constructor(
    private readonly dirs: readonly string[],
    private readonly options: { threads?: number } = {},
  ) {
    this.refresh();
  }

  refresh(): void {
    const found = new Map<string, UpscalerEntry>();
    for (const dir of this.dirs) {
      let names: string[];
      try {
        names = readdirSync(dir).filter((n) => /\.safetensors$/i.test(n));
      } catch {
        continue; // no such folder
      }
      for (const file of names.sort()) {
        const path = join(dir, file);
        const name = file.replace(/\.safetensors$/i, '');
        try {
          found.set(name, { name, path, scale: readRrdbConfig(path).scale });
        } catch (error) {
          found.set(name, { name, path, scale: null, error: (error as Error).message });
        }
      }
    }
    // GET /upscalers order (A1111 sorts upscalers case-insensitively by name), which SD upscale's indexes follow too.
    this.entries = [...found.values()].sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }

  list(): UpscalerEntry[] {
    return this.entries;
  }

  /** The names requests may use: files that are usable models and not named like a built-in upscaler. */
  usable(): string[] {
    return this.entries.filter(isUsableUpscaler).map((e) => e.name);
  }

  /** This catalog as the pipeline's hook (hires fix), tiled by each job's options. */
  hook(): ModelUpscalerHook {
    return {
      names: () => this.usable(),
      upscale: (name, img, scale, options, signal) => this.upscale(name, img, scale, tileOptions(options), signal),
    };
  }

  /** A1111's Upscaler.upscale with the named model (opened on first use, then kept until another is named). */
  async upscale(name: string, img: Pixels, scale: number, tiles: TileOptions, signal?: AbortSignal): Promise<Pixels> {
    if (!this.entries.some((e) => e.name === name)) this.refresh(); // a file dropped in since the last look
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new RangeError(`no model upscaler named ${JSON.stringify(name)}`);
    if (entry.error) throw new RangeError(entry.error);
    if (this.loaded?.path !== entry.path) {
      await this.release();
      this.loaded = await ModelUpscaler.open(entry.path, this.options);
    }
    return this.loaded.upscale(img, scale, tiles, signal);
  }

  async release(): Promise<void> {
    const held = this.loaded;
    this.loaded = null;
    await held?.release();
  }
}
