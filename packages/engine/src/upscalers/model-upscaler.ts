/**
 * A model upscaler (ESRGAN / Real-ESRGAN, rrdbnet.ts) run the way A1111 v1.10.1 runs its model upscalers
 * (behaviour learnt from it, written anew): the image goes in as BGR in [0, 1], comes out clamped to [0, 1], ×255
 * and rounded; large images are cut into tiles of option `ESRGAN_tile` px overlapping by `ESRGAN_tile_overlap`
 * (image/tiles.ts, A1111's split_grid/combine_grid with every length × the model's scale), each tile upscaled
 * alone. `Upscaler.upscale` then repeats the model until the image covers ⌊W·s/8⌋·8 × ⌊H·s/8⌋·8 (three times at
 * most) and a Lanczos resize gives that size (pixel-upscale.ts).
 */
import { basename } from 'node:path';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { type Pixels, pixels } from '../image/compose.ts';
import { pixelUpscaleSteps } from '../image/pixel-upscale.ts';
import { combineTiles, splitTiles } from '../image/tiles.ts';
import { compileGraph } from '../runtime/compile.ts';
import type { OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import { buildRrdbGraph, detectRrdb, type RrdbConfig, rrdbKeyOf } from './rrdbnet.ts';

export interface TileOptions {
  /** Tile side in px (A1111 option ESRGAN_tile, default 192); 0 runs the whole image at once. */
  tile: number;
  /** Overlap in px (ESRGAN_tile_overlap, default 8). */
  overlap: number;
}

export class ModelUpscaler {
  private constructor(
    readonly path: string,
    readonly config: RrdbConfig,
    private readonly session: OrtSession,
  ) {}

  /** Reads and compiles an ESRGAN-family file; another kind of file is a CheckpointError naming it. */
  static async open(path: string, options: { threads?: number } = {}): Promise<ModelUpscaler> {
    const file = SafetensorsFile.open(path);
    try {
      const config = detectRrdb(file);
      const session = await compileGraph(buildRrdbGraph(config), file, { keyOf: rrdbKeyOf(config), intraOpThreads: options.threads });
      return new ModelUpscaler(path, config, session);
    } finally {
      file.close(); // the weights are inside the session now
    }
  }

  get name(): string {
    return basename(this.path).replace(/\.safetensors$/i, '');
  }

  /** One pass of the model over an RGB image (A1111's upscale_pil_patch). */
  async run(img: Pixels): Promise<Pixels> {
    const { width: w, height: h } = img;
    const plane = w * h;
    const input = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) input[(2 - c) * plane + p] = img.data[p * img.channels + c] / 255; // RGB → BGR planes
    }
    const out = (await this.session.run({ image: new Tensor([1, 3, h, w], input) })).upscaled;
    const [, , H, W] = out.shape;
    const result = pixels(W, H, 3);
    const outPlane = W * H;
    for (let p = 0; p < outPlane; p++) {
      for (let c = 0; c < 3; c++) result.data[p * 3 + c] = Math.round(Math.min(1, Math.max(0, out.data[(2 - c) * outPlane + p])) * 255);
    }
    return result;
  }

  /** A1111's upscale_with_model: the whole image, or tiles upscaled one by one and put back together. */
  async runTiled(img: Pixels, { tile, overlap }: TileOptions): Promise<Pixels> {
    const rgb = img.channels === 3 ? img : dropAlpha(img);
    if (tile <= 0) return this.run(rgb);
    const grid = splitTiles(rgb, tile, tile, overlap);
    const s = this.config.scale;
    const rows = [];
    for (const row of grid.rows) {
      const done = [];
      for (const t of row) {
        done.push({ x: t.x * s, y: t.y * s, image: await this.run(t.image) });
      }
      rows.push(done);
    }
    return combineTiles({ tileWidth: tile * s, tileHeight: tile * s, imageWidth: rgb.width * s, imageHeight: rgb.height * s, overlap: overlap * s, rows });
  }

  /** A1111's Upscaler.upscale with this model: scales `img` by `scale` (to a multiple of 8). */
  upscale(img: Pixels, scale: number, tiles: TileOptions): Promise<Pixels> {
    return pixelUpscaleSteps(img, scale, (step) => this.runTiled(step, tiles));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** Pillow `convert("RGB")` of an RGBA image: the alpha is dropped, not composited. */
function dropAlpha(img: Pixels): Pixels {
  const out = pixels(img.width, img.height, 3);
  for (let p = 0; p < img.width * img.height; p++) out.data.set(img.data.subarray(p * img.channels, p * img.channels + 3), p * 3);
  return out;
}
