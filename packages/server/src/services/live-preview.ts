/**
 * GET /progress `current_image` (spec §3.5): the running job's live preview, refreshed when at least option
 * `show_progress_every_n_steps` steps passed since the last one (-1: never; the count restarts each batch) and
 * option `live_previews_enable` is on. The picture is the "Approx cheap" latent→RGB map at latent size, or, when
 * `show_progress_type` is "TAESD" and `models/VAE-approx/taesd_decoder.safetensors` (taesdxl_… for SDXL) is there,
 * the full-size TAESD picture the engine decodes on those steps (we ship no TAESD or Approx-NN weights; "Full" and
 * "Approx NN" fall back to Approx cheap); a grid of the batch with `show_progress_grid`. Encoded on demand.
 */
import { approxCheapPreview, type GenerationHooks, type GenerationProgress, type PreviewImage } from '@sdapi/engine';
import { encodeOutputImage } from './image-output.ts';

type Tensor = NonNullable<GenerationProgress['latent']>;

export interface OptionReader {
  value(key: string): unknown;
  effective(): Record<string, unknown>;
}

export class LivePreview {
  private image: PreviewImage | null = null;
  private version = 0;
  private encoded: { version: number; base64: string } | null = null;
  private jobNo = -1;
  private lastStep = 0;
  /** Whether the current job delivers TAESD previews. */
  private taesd = false;

  constructor(private readonly options: OptionReader) {}

  /** Hooks for one job: the preview starts empty (A1111 clears it at job start) and follows its progress. */
  track(hooks: GenerationHooks): GenerationHooks {
    this.image = null;
    this.encoded = null;
    this.jobNo = -1;
    this.lastStep = 0;
    this.taesd = false;
    return {
      ...hooks,
      onProgress: (p) => {
        this.observe(p);
        hooks.onProgress?.(p);
      },
    };
  }

  private observe(p: GenerationProgress): void {
    if (p.preview) {
      // A TAESD picture the engine decoded for a step it already reported (show_progress_type 'TAESD').
      this.image = p.preview;
      this.version++;
      this.taesd = true;
      return;
    }
    if (this.taesd) return; // this job has TAESD previews: no cheap ones in between
    if (p.jobNo !== this.jobNo) {
      this.jobNo = p.jobNo;
      this.lastStep = 0;
    }
    const every = Number(this.options.value('show_progress_every_n_steps'));
    if (!p.latent || !this.options.value('live_previews_enable') || every === -1 || Number.isNaN(every)) return;
    if (p.samplingStep - this.lastStep < every) return;
    this.lastStep = p.samplingStep;
    this.image = previewOf(p.latent, p.latentFormat ?? 'sd', Boolean(this.options.value('show_progress_grid')));
    this.version++;
  }

  /** The preview as base64 in the output format, or null before the first refresh. */
  async current(): Promise<string | null> {
    const image = this.image;
    if (!image) return null;
    const version = this.version;
    if (this.encoded?.version === version) return this.encoded.base64;
    const base64 = await encodeOutputImage({ ...image, infotext: null }, this.options.effective());
    this.encoded = { version, base64 };
    return base64;
  }
}

/** The first image, or all of the batch in a grid (rows = round(√n), A1111's default `n_rows` -1). */
export function previewOf(latent: Tensor, format: 'sd' | 'sdxl', grid: boolean): PreviewImage {
  const n = latent.shape[0];
  if (!grid || n === 1) return approxCheapPreview(latent, format, 0);
  const cells = Array.from({ length: n }, (_, i) => approxCheapPreview(latent, format, i));
  const rows = Math.max(1, Math.round(Math.sqrt(n)));
  const cols = Math.ceil(n / rows);
  const { width: w, height: h } = cells[0];
  const rgb = new Uint8Array(cols * w * rows * h * 3);
  cells.forEach((cell, i) => {
    const [cx, cy] = [(i % cols) * w, Math.floor(i / cols) * h];
    for (let y = 0; y < h; y++) rgb.set(cell.rgb.subarray(y * w * 3, (y + 1) * w * 3), ((cy + y) * cols * w + cx) * 3);
  });
  return { width: cols * w, height: rows * h, rgb };
}
