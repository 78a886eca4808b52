/**
 * The cheap GET lists clients call at start-up (spec §3.12, §3.14), answering what this server really has:
 * upscalers None, Lanczos, Nearest and the ESRGAN-family files found (no DAT/SwinIR/ScuNET/LDSR), the six
 * latent modes, the VAE files on disk (.safetensors), and empty lists for hypernetworks and face restorers (no
 * GFPGAN/CodeFormer). `/realesrgan-models` stays empty too: A1111 lists its downloadable Real-ESRGAN models there,
 * and we download none; files in models/RealESRGAN are in `/upscalers`.
 */
import { FaceRestorerList, HypernetworkList, LatentUpscalerModeList, RealesrganList, SDVaeList, UpscalerList } from '@sdapi/protocol';
import { LATENT_UPSCALE_MODES, upscalerList } from '../../services/upscalers.ts';
import type { SdApiInstance } from '../../types.ts';

export function listRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/upscalers', { schema: { response: { 200: UpscalerList } } }, async () => upscalerList(app.sd.generator));
  app.get('/sdapi/v1/latent-upscale-modes', { schema: { response: { 200: LatentUpscalerModeList } } }, async () =>
    LATENT_UPSCALE_MODES.map((name) => ({ name })),
  );
  app.get('/sdapi/v1/sd-vae', { schema: { response: { 200: SDVaeList } } }, async () => app.sd.vaeFiles());
  app.get('/sdapi/v1/hypernetworks', { schema: { response: { 200: HypernetworkList } } }, async () => []);
  app.get('/sdapi/v1/face-restorers', { schema: { response: { 200: FaceRestorerList } } }, async () => []);
  app.get('/sdapi/v1/realesrgan-models', { schema: { response: { 200: RealesrganList } } }, async () => []);
}
