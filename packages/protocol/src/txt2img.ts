/**
 * POST /sdapi/v1/txt2img: request model `StableDiffusionProcessingTxt2Img` and response `TextToImageResponse`,
 * with A1111 v1.10.1's field names, order and defaults (spec §3.1.1, vector api_models.json `txt2img_request`).
 * Field order matters: it is the key order of the `parameters` echo.
 */
import Type, { type Static } from 'typebox';
import { ControlNetUnit } from './controlnet.ts';
import { nullable, PYTHON_INT_DEFAULT, withDefault } from './fields.ts';

const Int = Type.Integer();
const Float = Type.Number();
const Str = Type.String();
const Bool = Type.Boolean();

export const Txt2ImgRequest = Type.Object(
  {
    prompt: nullable(Str, ''),
    negative_prompt: nullable(Str, ''),
    styles: nullable(Type.Array(Str), null),
    seed: nullable(Int, -1),
    subseed: nullable(Int, -1),
    subseed_strength: nullable(Float, 0, PYTHON_INT_DEFAULT),
    seed_resize_from_h: nullable(Int, -1),
    seed_resize_from_w: nullable(Int, -1),
    sampler_name: nullable(Str, null),
    scheduler: nullable(Str, null),
    batch_size: nullable(Int, 1),
    n_iter: nullable(Int, 1),
    steps: nullable(Int, 50),
    cfg_scale: nullable(Float, 7.0),
    width: nullable(Int, 512),
    height: nullable(Int, 512),
    restore_faces: nullable(Bool, null),
    tiling: nullable(Bool, null),
    do_not_save_samples: nullable(Bool, false),
    do_not_save_grid: nullable(Bool, false),
    eta: nullable(Float, null),
    denoising_strength: nullable(Float, null),
    s_min_uncond: nullable(Float, null),
    s_churn: nullable(Float, null),
    s_tmax: nullable(Float, null),
    s_tmin: nullable(Float, null),
    s_noise: nullable(Float, null),
    override_settings: nullable(Type.Record(Str, Type.Any()), null),
    override_settings_restore_afterwards: nullable(Bool, true),
    refiner_checkpoint: nullable(Str, null),
    refiner_switch_at: nullable(Float, null),
    disable_extra_networks: nullable(Bool, false),
    firstpass_image: nullable(Str, null),
    comments: nullable(Type.Record(Str, Type.Any()), null),
    enable_hr: nullable(Bool, false),
    firstphase_width: nullable(Int, 0),
    firstphase_height: nullable(Int, 0),
    hr_scale: nullable(Float, 2.0),
    hr_upscaler: nullable(Str, null),
    hr_second_pass_steps: nullable(Int, 0),
    hr_resize_x: nullable(Int, 0),
    hr_resize_y: nullable(Int, 0),
    hr_checkpoint_name: nullable(Str, null),
    hr_sampler_name: nullable(Str, null),
    hr_scheduler: nullable(Str, null),
    hr_prompt: nullable(Str, ''),
    hr_negative_prompt: nullable(Str, ''),
    force_task_id: nullable(Str, null),
    sampler_index: withDefault(Str, 'Euler'),
    script_name: nullable(Str, null),
    script_args: withDefault(Type.Array(Type.Any()), []),
    send_images: withDefault(Bool, true),
    save_images: withDefault(Bool, false),
    alwayson_scripts: withDefault(Type.Record(Str, Type.Any()), {}),
    infotext: nullable(Str, null),
    /**
     * sdapi extension (`x-sdapi-extension`, not in A1111's model): ControlNet units as a typed list (same unit
     * object as `alwayson_scripts.controlnet.args`); absent from the `parameters` echo unless sent.
     */
    controlnet: Type.Optional(Type.Array(ControlNetUnit, { 'x-sdapi-extension': true })),
    /**
     * sdapi extension: a selectable script in typed form, e.g. `{xyz_plot: {x: {axis: 'Steps', values: [10, 20]}}}`
     * (keys xyz_plot, prompt_matrix, prompts_from_file, sd_upscale, loopback, outpainting_mk2,
     * poor_mans_outpainting); translated to `script_name` + `script_args` by the server, which checks the keys.
     */
    scripts: Type.Optional(Type.Record(Str, Type.Record(Str, Type.Any()), { 'x-sdapi-extension': true })),
  },
  { $id: 'StableDiffusionProcessingTxt2Img', title: 'StableDiffusionProcessingTxt2Img' },
);
export type Txt2ImgRequest = Static<typeof Txt2ImgRequest>;

export const Txt2ImgResponse = Type.Object(
  {
    images: nullable(Type.Array(Str, { description: 'The generated images in base64 format.' }), null),
    parameters: Type.Record(Str, Type.Any()),
    info: Type.String({ description: 'JSON text (Python json.dumps) describing the generation.' }),
  },
  { $id: 'TextToImageResponse', title: 'TextToImageResponse' },
);
export type Txt2ImgResponse = Static<typeof Txt2ImgResponse>;

/** The `info` string of a txt2img response, parsed (spec §4.6; keys in this order). */
export interface Txt2ImgInfo {
  prompt: string;
  all_prompts: string[];
  negative_prompt: string;
  all_negative_prompts: string[];
  seed: number;
  all_seeds: number[];
  subseed: number;
  all_subseeds: number[];
  subseed_strength: number;
  width: number;
  height: number;
  sampler_name: string;
  cfg_scale: number;
  steps: number;
  batch_size: number;
  restore_faces: boolean;
  face_restoration_model: string | null;
  sd_model_name: string | null;
  sd_model_hash: string | null;
  sd_vae_name: string | null;
  sd_vae_hash: string | null;
  seed_resize_from_w: number;
  seed_resize_from_h: number;
  denoising_strength: number | null;
  extra_generation_params: Record<string, unknown>;
  index_of_first_image: number;
  infotexts: string[];
  styles: string[];
  job_timestamp: string;
  clip_skip: number;
  is_using_inpainting_conditioning: boolean;
  version: string | null;
}
