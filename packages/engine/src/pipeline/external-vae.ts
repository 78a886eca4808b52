/**
 * Separate VAE files (A1111 option `sd_vae`, `models/VAE/*.safetensors`, `<checkpoint>.vae.safetensors`): the
 * first-stage autoencoder's weights read from another file instead of the checkpoint. The graphs are the model's
 * own (models/vae.ts, parameters named `first_stage_model.*`); only the weight source changes, so the UNet and
 * text encoder are untouched. VAE files come in two key layouts, both handled: bare (`encoder.*`, `decoder.*`,
 * `quant_conv.*`, `post_quant_conv.*`, as vae-ft-mse-840000-ema-pruned.safetensors) or with the checkpoint's
 * `first_stage_model.` prefix. Diffusers-layout VAEs (`decoder.up_blocks.*`) are refused with the missing key.
 */
import type { VAEConfig } from '../checkpoint/config.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { InvalidParamsError } from '../errors.ts';
import { buildVAEDecoderGraph, buildVAEEncoderGraph } from '../models/vae.ts';

/** A VAE file chosen for the following jobs (the caller resolves A1111's `sd_vae` to it). */
export interface ExternalVae {
  /** Absolute path of the `.safetensors` file. */
  path: string;
  /** File name with its extension: infotext `VAE`, info `sd_vae_name` (A1111 writes the base name). */
  name: string;
  /** First 10 hex of the file's SHA-256 (infotext `VAE hash`), or null with --no-hashing. */
  shortHash: string | null;
}

const PREFIX = 'first_stage_model.';

/** An opened VAE file and how graph parameter names map to its keys. */
export interface OpenVae {
  file: SafetensorsFile;
  keyOf: (param: string) => string;
}

/**
 * Opens `path` and checks that it holds every autoencoder weight `config` needs, with the right element counts, so
 * a wrong file is refused when it is selected (naming the file and the first problem), not halfway through a job.
 */
export function openVaeFile(path: string, config: VAEConfig): OpenVae {
  let file: SafetensorsFile;
  try {
    file = SafetensorsFile.open(path);
  } catch (error) {
    throw new InvalidParamsError('sd_vae', `VAE file ${path} cannot be read: ${(error as Error).message}`);
  }
  const prefixed = file.has(`${PREFIX}decoder.conv_in.weight`);
  const keyOf = (param: string) => (prefixed ? param : param.startsWith(PREFIX) ? param.slice(PREFIX.length) : param);
  try {
    for (const graph of [buildVAEDecoderGraph(config), buildVAEEncoderGraph(config)]) {
      for (const p of graph.params.values()) {
        const key = keyOf(p.name);
        if (!file.has(key))
          throw new Error(`it has no tensor '${key}' (a VAE in the original layout has encoder.*, decoder.*, quant_conv.*, post_quant_conv.*)`);
        const count = file.info(key).shape.reduce((a, b) => a * b, 1);
        const expected = p.dims.reduce((a, b) => a * b, 1);
        if (count !== expected)
          throw new Error(`tensor '${key}' has shape [${file.info(key).shape.join(', ')}] but this model's VAE needs [${p.dims.join(', ')}]`);
      }
    }
  } catch (error) {
    file.close();
    throw new InvalidParamsError('sd_vae', `VAE file ${path} does not fit this model: ${(error as Error).message}`);
  }
  return { file, keyOf };
}
