/**
 * The sd-webui-controlnet v1.1.455 wire contract (spec controlnet-api.md §2, §8): the unit object sent in
 * `alwayson_scripts.controlnet.args` (and our typed top-level `controlnet` field), and the `/controlnet/*` routes.
 * Field order and defaults are the extension's pydantic model's; unknown keys are dropped as pydantic's
 * `extra = ignore` does. Choices and ranges are checked by the server, which names the unit index and field.
 */
import Type, { type Static } from 'typebox';
import { nullable, withDefault } from './fields.ts';

const Str = Type.String();
const Float = Type.Number();
const Int = Type.Integer();
const Bool = Type.Boolean();

export const CONTROLNET_RESIZE_MODES = ['Just Resize', 'Crop and Resize', 'Resize and Fill'] as const;
export const CONTROLNET_CONTROL_MODES = ['Balanced', 'My prompt is more important', 'ControlNet is more important'] as const;
export const CONTROLNET_HR_OPTIONS = ['Both', 'Low res only', 'High res only'] as const;

export const ControlNetUnit = Type.Object(
  {
    /** SD-Forge's name for `mask` (giving both is an error). */
    mask_image: nullable(Type.Any(), null),
    hr_option: withDefault(Str, 'Both'),
    enabled: withDefault(Bool, false),
    module: withDefault(Str, 'none'),
    model: withDefault(Str, 'None'),
    weight: withDefault(Float, 1.0),
    /** base64 / data URL / http(s) URL, `{image, mask}`, `[image, mask]`, or a list of those. */
    image: nullable(Type.Any(), null),
    mask: nullable(Type.Any(), null),
    /** A label (§2); the ≤1.1.44x numbers 0–3 are accepted too. */
    resize_mode: withDefault(Type.Any(), 'Crop and Resize'),
    low_vram: withDefault(Bool, false),
    processor_res: withDefault(Int, -1),
    threshold_a: withDefault(Float, -1),
    threshold_b: withDefault(Float, -1),
    guidance_start: withDefault(Float, 0.0),
    guidance_end: withDefault(Float, 1.0),
    pixel_perfect: withDefault(Bool, false),
    /** A label (§2); the ≤1.1.44x numbers 0–2 are accepted too. */
    control_mode: withDefault(Type.Any(), 'Balanced'),
    save_detected_map: withDefault(Bool, true),
    inpaint_crop_input_image: withDefault(Bool, true),
    advanced_weighting: nullable(Type.Array(Float), null),
    effective_region_mask: nullable(Type.Any(), null),
    union_control_type: withDefault(Str, 'Unknown'),
    pulid_mode: withDefault(Str, 'Fidelity'),
    ipadapter_input: nullable(Type.Any(), null),
    // Deprecated aliases (§2): input_image → image, lowvram → low_vram, guidance → guidance_end.
    input_image: Type.Optional(Type.Any()),
    lowvram: Type.Optional(Type.Any()),
    guidance: Type.Optional(Type.Any()),
  },
  { $id: 'ControlNetUnit', title: 'ControlNetUnit' },
);
export type ControlNetUnit = Static<typeof ControlNetUnit>;

export const ControlNetVersion = Type.Object({ version: Int }, { $id: 'ControlNetVersion' });
export const ControlNetModelList = Type.Object({ model_list: Type.Array(Str) }, { $id: 'ControlNetModelList' });
export const ControlNetModelListQuery = Type.Object({ update: Type.Optional(Bool) });
export const ControlNetModuleListQuery = Type.Object({ alias_names: Type.Optional(Bool) });

export const ControlNetSlider = Type.Object({ name: Str, value: Float, min: Float, max: Float, step: Float });
export const ControlNetModuleList = Type.Object(
  {
    module_list: Type.Array(Str),
    module_detail: Type.Record(Str, Type.Object({ model_free: Bool, sliders: Type.Array(ControlNetSlider) })),
  },
  { $id: 'ControlNetModuleList' },
);
export const ControlNetSettings = Type.Object({ control_net_unit_count: Int }, { $id: 'ControlNetSettings' });

/** `GET /controlnet/control_types`: per control type (and `All`), its modules, fitting models and defaults. */
export const ControlNetControlTypes = Type.Object(
  {
    control_types: Type.Record(
      Str,
      Type.Object({ module_list: Type.Array(Str), model_list: Type.Array(Str), default_option: Str, default_model: Str }),
    ),
  },
  { $id: 'ControlNetControlTypes' },
);
export type ControlNetControlTypes = Static<typeof ControlNetControlTypes>;

export const ControlNetDetectRequest = Type.Object(
  {
    controlnet_module: withDefault(Str, 'none'),
    controlnet_input_images: withDefault(Type.Array(Str), []),
    /** webuiapi ≥0.9 sends the images under this key, which the extension ignores; accepted here too. */
    controlnet_images: Type.Optional(Type.Array(Str)),
    controlnet_masks: withDefault(Type.Array(Str), []),
    controlnet_processor_res: withDefault(Int, -1),
    controlnet_threshold_a: withDefault(Float, -1),
    controlnet_threshold_b: withDefault(Float, -1),
    low_vram: withDefault(Bool, false),
  },
  { $id: 'ControlNetDetectRequest' },
);
export type ControlNetDetectRequest = Static<typeof ControlNetDetectRequest>;

export const ControlNetDetectResponse = Type.Object({ images: Type.Array(Str), info: Str }, { $id: 'ControlNetDetectResponse' });
export type ControlNetDetectResponse = Static<typeof ControlNetDetectResponse>;
