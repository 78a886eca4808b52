/**
 * The latent half of A1111's img2img `init` (spec §3.2): VAE-encoding the prepared images, resize mode 3's
 * latent resize, the latent inpainting mask, "latent noise"/"latent nothing" fills, and the [mask, masked
 * image latent] conditioning of 9-channel inpainting checkpoints (A1111 `inpainting_image_conditioning`).
 *
 * VAE encode: A1111's `get_first_stage_encoding` draws a sample mean + std·ε from the posterior with torch's
 * global (unseeded) generator, so its img2img is not reproducible from the seed. We take the posterior mean
 * (the mode), which is deterministic; for trained VAEs std is tiny (logvar ≈ −20), so the two differ by noise
 * far below one 8-bit level after sampling. The tiny fixture's `vae.encode.latent_mode_scaled` is exactly this.
 */
import type { Pixels } from '../image/compose.ts';
import { fromRgbBytes } from '../image/convert.ts';
import { interpolate } from '../image/interpolate.ts';
import { resizePixels } from '../image/resize.ts';
import { ImageRNG } from '../rng/image-rng.ts';
import { Tensor } from '../tensor.ts';
import type { LatentMask } from './img2img-sampling.ts';
import type { LoadedModel } from './model.ts';
import type { GenerationOptions } from './types.ts';

/** Latent channels (A1111 opt_C): the VAE's, not the UNet's (9 for inpainting checkpoints). */
export const latentChannels = (model: LoadedModel): number => model.config.vae.embed_dim;

/** RGB pixels → [1, 3, H, W] in [-1, 1]. */
export const toImageTensor = (img: Pixels): Tensor => fromRgbBytes(img.data, img.width, img.height, img.channels);

/** Images [N, 3, H, W] in [-1, 1] → diffusion-space latents: posterior mean × scale_factor. */
export async function encodeLatents(model: LoadedModel, images: Tensor): Promise<Tensor> {
  const moments = await model.encodeImage(images);
  const [n, c2, h, w] = moments.shape;
  const c = c2 / 2;
  const out = new Tensor([n, c, h, w]);
  const per = c * h * w;
  for (let i = 0; i < n; i++) out.data.set(moments.data.subarray(i * c2 * h * w, i * c2 * h * w + per), i * per);
  return out.mul(model.config.vae.scale_factor);
}

/** Encodes each distinct image once (one init image usually serves the whole batch) and stacks them. */
export async function encodeBatch(model: LoadedModel, images: readonly Pixels[]): Promise<Tensor> {
  const distinct = [...new Set(images)];
  const latents = await Promise.all(distinct.map((img) => encodeLatents(model, toImageTensor(img))));
  return Tensor.cat(images.map((img) => latents[distinct.indexOf(img)]));
}

/** A1111's latent mask: the L mask bicubic-resized to the latent size, /255, rounded when `round`; per channel. */
export async function latentMaskFor(imageMask: Pixels, init: Tensor, round: boolean): Promise<LatentMask> {
  const [n, c, h, w] = init.shape;
  const small = await resizePixels(imageMask, w, h, 'cubic');
  const plane = Float32Array.from(small.data, (v) => (round ? Math.round(v / 255) : Math.fround(v / 255)));
  const nmask = new Tensor([n, c, h, w]);
  for (let i = 0; i < n * c; i++) nmask.data.set(plane, i * h * w);
  return { nmask, mask: nmask.map((v) => Math.fround(1 - v)), init };
}

/** inpainting_fill 2 / 3: the masked latent area replaced by the first batch's seed noise, or zeroed. */
export function fillLatent(m: LatentMask, fill: number, seeds: readonly number[], options: GenerationOptions): Tensor {
  const kept = m.init.mul(m.mask);
  if (fill !== 2) return kept;
  const [n, c, h, w] = m.init.shape;
  const noise = new ImageRNG({ shape: [c, h, w], seeds: seeds.slice(0, n), source: options.randn_source }).first();
  return kept.add(noise.mul(m.nmask));
}

/** Resize mode 3: the latent is encoded at the image's size and resized bilinearly to width/8 × height/8. */
export function resizeLatent(latent: Tensor, width: number, height: number): Tensor {
  const [h, w] = [Math.floor(height / 8), Math.floor(width / 8)];
  return latent.shape[2] === h && latent.shape[3] === w ? latent : interpolate(latent, h, w, 'bilinear');
}

/**
 * c_concat [B, 1 + C, h, w] of an inpainting model: the (rounded) mask at latent size (nearest) and the
 * latent of the source image with the masked part blended out by `weight` (option inpainting_mask_weight).
 * `mask` null = everything masked (txt2img: the source is then irrelevant at weight 1).
 */
export async function inpaintingConditioning(
  model: LoadedModel,
  source: Tensor,
  mask: Pixels | null,
  weight: number,
  round: boolean,
  latentSize: readonly [number, number],
): Promise<Tensor> {
  const [n, , H, W] = source.shape;
  const m = new Float32Array(H * W).fill(1);
  if (mask) for (let p = 0; p < m.length; p++) m[p] = round ? Math.round(mask.data[p] / 255) : Math.fround(mask.data[p] / 255);
  const plane = H * W;
  // torch.lerp(source, source·(1 − mask), weight)
  const masked = source.map((v, i) => {
    const end = Math.fround(v * Math.fround(1 - m[i % plane]));
    return v + weight * (end - v);
  });
  const latent = await encodeLatents(model, masked);
  const [h, w] = latentSize;
  const smallMask = interpolate(new Tensor([1, 1, H, W], m), h, w, 'nearest');
  return catMask(smallMask, latent, n);
}

function catMask(mask: Tensor, latent: Tensor, n: number): Tensor {
  const [, c, h, w] = latent.shape;
  const plane = h * w;
  const out = new Tensor([n, c + 1, h, w]);
  for (let i = 0; i < n; i++) {
    out.data.set(mask.data, i * (c + 1) * plane);
    out.data.set(latent.data.subarray(i * c * plane, (i + 1) * c * plane), (i * (c + 1) + 1) * plane);
  }
  return out;
}

/** A1111 txt2img_image_conditioning for inpainting models: mask of ones and the latent of a mid-grey image. */
export async function txt2imgConditioning(model: LoadedModel, batch: number, height: number, width: number): Promise<Tensor> {
  const grey = Tensor.zeros([1, 3, height, width]); // 0.5 in [0, 1] is 0 in [-1, 1]
  const latent = await encodeLatents(model, grey);
  const mask = Tensor.full([1, 1, latent.shape[2], latent.shape[3]], 1);
  return catMask(mask, Tensor.cat(Array<Tensor>(batch).fill(latent)), batch);
}
