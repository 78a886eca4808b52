/**
 * AnimateDiff arguments for `alwayson_scripts` (key `animatediff`; defaults and keys as webuiapi's AnimateDiff
 * class, mix1009/sdwebuiapi@ce232f0 webuiapi.py, MIT). img2img adds the latent power/scale keys.
 */

export interface AnimateDiffOptions {
  model: string;
  enable: boolean;
  video_length: number;
  fps: number;
  loop_number: number;
  closed_loop: 'N' | 'R-P' | 'R+P' | 'A';
  batch_size: number;
  stride: number;
  overlap: number;
  format: ('GIF' | 'MP4' | 'PNG' | 'WEBP' | 'WEBM' | 'TXT' | 'Frame')[];
  interp: 'Off' | 'FILM';
  interp_x: number;
  video_path: string;
  mask_path: string;
  freeinit_enable: boolean;
  freeinit_filter: string;
  freeinit_ds: number;
  freeinit_dt: number;
  freeinit_iters: number;
  latent_power: number;
  latent_scale: number;
  last_frame: string | null;
  latent_power_last: number;
  latent_scale_last: number;
  request_id: string;
}

const DEFAULTS: AnimateDiffOptions = {
  model: 'mm_sd15_v3.safetensors',
  enable: true,
  video_length: 0,
  fps: 8,
  loop_number: 0,
  closed_loop: 'R-P',
  batch_size: 16,
  stride: 1,
  overlap: -1,
  format: ['GIF'],
  interp: 'Off',
  interp_x: 10,
  video_path: '',
  mask_path: '',
  freeinit_enable: false,
  freeinit_filter: 'butterworth',
  freeinit_ds: 0.25,
  freeinit_dt: 0.25,
  freeinit_iters: 3,
  latent_power: 1,
  latent_scale: 32,
  last_frame: null,
  latent_power_last: 1,
  latent_scale_last: 32,
  request_id: '',
};

const ALWAYS = [
  'model',
  'enable',
  'video_length',
  'format',
  'fps',
  'loop_number',
  'closed_loop',
  'batch_size',
  'stride',
  'overlap',
  'interp',
  'interp_x',
] as const;
const FREEINIT = ['freeinit_enable', 'freeinit_filter', 'freeinit_ds', 'freeinit_dt', 'freeinit_iters'] as const;
const IMG2IMG = ['latent_power', 'latent_scale', 'latent_power_last', 'latent_scale_last'] as const;

/** `alwayson_scripts` entry `{animatediff: {args: [{…}]}}`; `false` gives `[false]` (installed but unused). */
export function animateDiff(fields: Partial<AnimateDiffOptions> | false = {}, { img2img = false } = {}): { animatediff: { args: unknown[] } } {
  if (fields === false) return { animatediff: { args: [false] } };
  const o = { ...DEFAULTS, ...fields };
  const args: Record<string, unknown> = {};
  for (const k of [...ALWAYS, ...FREEINIT]) args[k] = o[k];
  // Optional keys are sent only when set, as webuiapi does.
  if (o.request_id) args.request_id = o.request_id;
  if (o.last_frame) args.last_frame = o.last_frame;
  if (o.video_path) args.video_path = o.video_path;
  if (o.mask_path) args.mask_path = o.mask_path;
  if (img2img) for (const k of IMG2IMG) args[k] = o[k];
  return { animatediff: { args: [args] } };
}
