/**
 * Live previews through TAESD (models/taesd.ts) when its weights are present: A1111's `show_progress_type:
 * "TAESD"`, between the cheap linear latent→RGB map and a full VAE decode in cost and quality. We ship no weights
 * and fetch none; a user drops `taesd_decoder.safetensors` (SD1/SD2) or `taesdxl_decoder.safetensors` (SDXL) into
 * `models/VAE-approx/`.
 */
import { basename } from 'node:path';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import type { PreviewImage } from '../image/latent-preview.ts';
import { buildTaesdDecoderGraph } from '../models/taesd.ts';
import { compileGraph } from '../runtime/compile.ts';
import type { OrtSession } from '../runtime/ort.ts';
import { Tensor } from '../tensor.ts';
import type { GenerationOptions, LatentFormat } from './types.ts';

/** The decoder file A1111 names for each latent space (we read its safetensors form only). */
export const TAESD_FILES: Record<LatentFormat, string> = { sd: 'taesd_decoder.safetensors', sdxl: 'taesdxl_decoder.safetensors' };

export class TaesdPreview {
  private constructor(
    readonly path: string,
    private readonly session: OrtSession,
  ) {}

  /** Opens and compiles a TAESD decoder file; a file of another layout is a CheckpointError naming it. */
  static async open(path: string): Promise<TaesdPreview> {
    const file = SafetensorsFile.open(path);
    try {
      if (!file.has('1.weight'))
        throw new CheckpointError(path, `is not a TAESD decoder (no '1.weight'; ${basename(path)} should hold taesd.py's Decoder keys)`);
      const latentChannels = file.info('1.weight').shape[1];
      return new TaesdPreview(path, await compileGraph(buildTaesdDecoderGraph(latentChannels), file));
    } finally {
      file.close(); // the weights are inside the session now
    }
  }

  /** Image `index` of a latent batch [N, C, h, w] → an 8h×8w RGB preview (truncated to 8 bits, as A1111 does). */
  async preview(latent: Tensor, index = 0): Promise<PreviewImage> {
    const [, c, h, w] = latent.shape;
    const one = new Tensor([1, c, h, w], latent.data.subarray(index * c * h * w, (index + 1) * c * h * w));
    const image = (await this.session.run({ latent: one })).image;
    const [, , height, width] = image.shape;
    const plane = height * width;
    const rgb = new Uint8Array(plane * 3);
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < 3; k++) rgb[p * 3 + k] = Math.trunc(Math.min(1, Math.max(0, image.data[k * plane + p])) * 255);
    }
    return { width, height, rgb };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * After sampling step `step` (1-based): when previews are TAESD and due (every `show_progress_every_n_steps`), decode
 * `denoised` and hand the picture to `emit`. Best effort: a failed preview never disturbs the job.
 */
export function taesdPreviewStep(
  taesd: TaesdPreview | null,
  options: Partial<GenerationOptions>,
  step: number,
  denoised: Tensor,
  emit: (preview: PreviewImage) => void,
): void {
  if (!taesd || options.show_progress_type !== 'TAESD' || options.live_previews_enable === false) return;
  const every = options.show_progress_every_n_steps ?? 10;
  if (every <= 0 || step % every !== 0) return;
  taesd.preview(denoised).then(emit, () => {});
}
