/**
 * POST /sdapi/v1/extra-single-image and /extra-batch-images (spec §3.3; vector api_models.json
 * `ExtrasSingleImageRequest`, `ExtrasBatchImagesRequest` and their responses). Unlike the generation models these
 * fields are not nullable, and the numbers carry pydantic's range constraints (violations are 422s).
 */
import Type, { type Static } from 'typebox';
import { withDefault } from './fields.ts';

const unit = (defaultValue: number) => withDefault(Type.Number({ minimum: 0, maximum: 1 }), defaultValue);

/** The options both extras routes share, in A1111's field order. */
const extrasOptions = {
  resize_mode: withDefault(
    Type.Union([Type.Literal(0), Type.Literal(1)], { description: '0 = scale by upscaling_resize, 1 = scale to upscaling_resize_w × _h' }),
    0,
  ),
  show_extras_results: withDefault(Type.Boolean(), true),
  gfpgan_visibility: unit(0),
  codeformer_visibility: unit(0),
  codeformer_weight: unit(0),
  upscaling_resize: withDefault(Type.Number({ exclusiveMinimum: 0 }), 2),
  upscaling_resize_w: withDefault(Type.Integer({ minimum: 1 }), 512),
  upscaling_resize_h: withDefault(Type.Integer({ minimum: 1 }), 512),
  upscaling_crop: withDefault(Type.Boolean(), true),
  upscaler_1: withDefault(Type.String(), 'None'),
  upscaler_2: withDefault(Type.String(), 'None'),
  extras_upscaler_2_visibility: unit(0),
  upscale_first: withDefault(Type.Boolean({ description: 'ignored since A1111 1.7' }), false),
};

export const ExtrasSingleImageRequest = Type.Object(
  { ...extrasOptions, image: withDefault(Type.String({ description: 'base64 or data: URL' }), '') },
  { $id: 'ExtrasSingleImageRequest', title: 'ExtrasSingleImageRequest' },
);
export type ExtrasSingleImageRequest = Static<typeof ExtrasSingleImageRequest>;

export const ExtrasSingleImageResponse = Type.Object(
  {
    html_info: Type.String({ description: 'The postprocessing info as HTML (`<p>k: v, …</p>`).' }),
    image: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null })),
  },
  { $id: 'ExtrasSingleImageResponse', title: 'ExtrasSingleImageResponse' },
);
export type ExtrasSingleImageResponse = Static<typeof ExtrasSingleImageResponse>;

/** One input of the batch route; `name` is required but unused by A1111. */
export const FileData = Type.Object({ data: Type.String(), name: Type.String() }, { $id: 'FileData', title: 'FileData' });
export type FileData = Static<typeof FileData>;

export const ExtrasBatchImagesRequest = Type.Object(
  { ...extrasOptions, imageList: Type.Array(FileData) },
  { $id: 'ExtrasBatchImagesRequest', title: 'ExtrasBatchImagesRequest' },
);
export type ExtrasBatchImagesRequest = Static<typeof ExtrasBatchImagesRequest>;

export const ExtrasBatchImagesResponse = Type.Object(
  { html_info: Type.String(), images: Type.Array(Type.String()) },
  { $id: 'ExtrasBatchImagesResponse', title: 'ExtrasBatchImagesResponse' },
);
export type ExtrasBatchImagesResponse = Static<typeof ExtrasBatchImagesResponse>;
