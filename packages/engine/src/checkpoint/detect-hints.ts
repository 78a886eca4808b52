/**
 * Recognises the files people commonly mistake for a model checkpoint (LoRA/LyCORIS networks, ControlNets,
 * standalone VAEs, textual-inversion embeddings, diffusers-format folders, DiT models) from their key names, so
 * the error says what the file is and where it belongs instead of only "unsupported".
 */

export interface FileKind {
  /** "a LoRA / LyCORIS network", … */
  what: string;
  /** What to do instead. */
  hint: string;
}

interface Rule extends FileKind {
  test: (keys: readonly string[]) => boolean;
}

const some = (keys: readonly string[], re: RegExp) => keys.some((k) => re.test(k));

const RULES: Rule[] = [
  {
    what: 'a LoRA / LyCORIS network',
    hint: 'put it in models/Lora and use it in a prompt as <lora:NAME:1>; the model must be a full SD1.x/SD2.x/SDXL checkpoint',
    test: (k) => some(k, /^(lora_(unet|te\d?)_|lycoris_)|\.(lora_(up|down|A|B|mid)|hada_w\d|lokr_w\d|diff|dora_scale)\b/),
  },
  {
    what: 'a ControlNet',
    hint: 'ControlNets go to models/ControlNet and are used through alwayson_scripts.controlnet; the model must be a full SD checkpoint',
    test: (k) => some(k, /^control_model\.|(^|\.)input_hint_block\.|(^|\.)zero_convs\.\d/),
  },
  {
    what: 'a textual-inversion embedding',
    hint: 'put it in embeddings/ and write its file name in the prompt',
    test: (k) => some(k, /^(emb_params|string_to_param|string_to_token|clip_[lg])$|^string_to_param\./),
  },
  {
    what: 'a standalone VAE',
    hint: 'put it in models/VAE and select it with the sd_vae option (or name it <checkpoint>.vae.safetensors)',
    test: (k) =>
      k.length > 0 &&
      (k.every((key) => key.startsWith('first_stage_model.')) || (k.includes('encoder.conv_in.weight') && k.includes('decoder.conv_in.weight'))),
  },
  {
    what: 'a diffusers-format component (unet/vae/text_encoder folder file)',
    hint: 'sdapi loads single-file LDM checkpoints (model.diffusion_model.*); use the single-file .safetensors release of the model',
    test: (k) => some(k, /^(down_blocks|up_blocks|mid_block)\.\d*|^text_model\.encoder\.layers\./),
  },
  {
    what: 'a standalone text encoder',
    hint: 'text encoders are part of the full checkpoint; load the complete SD1.x/SD2.x/SDXL file',
    test: (k) => some(k, /^(transformer\.resblocks|encoder\.layers|cond_stage_model\.|conditioner\.embedders\.)/),
  },
];

/** What a file without `model.diffusion_model.*` keys most likely is. */
export function classifyNonCheckpoint(keys: readonly string[]): FileKind {
  const rule = RULES.find((r) => r.test(keys));
  if (rule) return { what: rule.what, hint: rule.hint };
  return { what: 'not a Stable Diffusion checkpoint', hint: 'pass a full SD1.x/SD2.x/SDXL checkpoint (.safetensors in the original LDM layout)' };
}

/** `model.diffusion_model.*` present but not an openaimodel UNet: name the architecture family when we can. */
export function classifyDiffusionModel(keys: readonly string[]): string | null {
  if (some(keys, /^model\.diffusion_model\.(joint_blocks|x_embedder)\./)) return 'an SD3-style MMDiT';
  if (some(keys, /^model\.diffusion_model\.(double_blocks|single_blocks)\./)) return 'a Flux-style DiT';
  if (some(keys, /^model\.diffusion_model\.(blocks\.\d+\.|t_embedder\.)/)) return 'a DiT (PixArt/Hunyuan style)';
  return null;
}
