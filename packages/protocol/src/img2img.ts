/**
 * POST /sdapi/v1/img2img: request model `StableDiffusionProcessingImg2Img` and response `ImageToImageResponse`
 * (spec §3.2, vector api_models.json `img2img_request`). The fields shared with txt2img are taken from its schema;
 * field order is the key order of the `parameters` echo.
 */
import Type, { type Static } from 'typebox';
import { nullable, withDefault } from './fields.ts';
import { Txt2ImgRequest } from './txt2img.ts';

const Int = Type.Integer();
const Float = Type.Number();
const Str = Type.String();
const Bool = Type.Boolean();
const t = Txt2ImgRequest.properties;

export const Img2ImgRequest = Type.Object(
  {
    prompt: t.prompt,
    negative_prompt: t.negative_prompt,
    styles: t.styles,
    seed: t.seed,
    subseed: t.subseed,
    subseed_strength: t.subseed_strength,
    seed_resize_from_h: t.seed_resize_from_h,
    seed_resize_from_w: t.seed_resize_from_w,
    sampler_name: t.sampler_name,
    scheduler: t.scheduler,
    batch_size: t.batch_size,
    n_iter: t.n_iter,
    steps: t.steps,
    cfg_scale: t.cfg_scale,
    width: t.width,
    height: t.height,
    restore_faces: t.restore_faces,
    tiling: t.tiling,
    do_not_save_samples: t.do_not_save_samples,
    do_not_save_grid: t.do_not_save_grid,
    eta: t.eta,
    // Not nullable here (A1111 declares it with an explicit 0.75 default).
    denoising_strength: withDefault(Float, 0.75),
    s_min_uncond: t.s_min_uncond,
    s_churn: t.s_churn,
    s_tmax: t.s_tmax,
    s_tmin: t.s_tmin,
    s_noise: t.s_noise,
    override_settings: t.override_settings,
    override_settings_restore_afterwards: t.override_settings_restore_afterwards,
    refiner_checkpoint: t.refiner_checkpoint,
    refiner_switch_at: t.refiner_switch_at,
    disable_extra_networks: t.disable_extra_networks,
    firstpass_image: t.firstpass_image,
    comments: t.comments,
    init_images: nullable(Type.Array(Type.Any(), { description: 'base64 images, data: URLs or http(s) URLs' }), null),
    resize_mode: nullable(Int, 0, { description: '0 resize, 1 crop and resize, 2 resize and fill, 3 latent upscale' }),
    image_cfg_scale: nullable(Float, null),
    mask: nullable(Str, null, { description: 'base64 image; white = inpaint' }),
    mask_blur_x: nullable(Int, 4),
    mask_blur_y: nullable(Int, 4),
    mask_blur: nullable(Int, null),
    mask_round: nullable(Bool, true),
    inpainting_fill: nullable(Int, 0, { description: '0 fill, 1 original, 2 latent noise, 3 latent nothing' }),
    inpaint_full_res: nullable(Bool, true),
    inpaint_full_res_padding: nullable(Int, 0),
    inpainting_mask_invert: nullable(Int, 0),
    initial_noise_multiplier: nullable(Float, null),
    latent_mask: nullable(Str, null),
    force_task_id: t.force_task_id,
    sampler_index: t.sampler_index,
    include_init_images: withDefault(Bool, false),
    script_name: t.script_name,
    script_args: t.script_args,
    send_images: t.send_images,
    save_images: t.save_images,
    alwayson_scripts: t.alwayson_scripts,
    infotext: t.infotext,
    controlnet: t.controlnet,
    scripts: t.scripts,
  },
  { $id: 'StableDiffusionProcessingImg2Img', title: 'StableDiffusionProcessingImg2Img' },
);
export type Img2ImgRequest = Static<typeof Img2ImgRequest>;

export const Img2ImgResponse = Type.Object(
  {
    images: nullable(Type.Array(Str, { description: 'The generated images in base64 format.' }), null),
    parameters: Type.Record(Str, Type.Any()),
    info: Type.String({ description: 'JSON text (Python json.dumps) describing the generation.' }),
  },
  { $id: 'ImageToImageResponse', title: 'ImageToImageResponse' },
);
export type Img2ImgResponse = Static<typeof Img2ImgResponse>;
