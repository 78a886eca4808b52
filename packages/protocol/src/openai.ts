/**
 * The OpenAI-compatible image routes (`POST /v1/images/generations`, `GET /v1/models`) that LLM front-ends
 * (open-webui, LibreChat, SillyTavern) already speak, with OpenAI's field names and error body. Our extensions
 * (`negative_prompt`, `seed`, `steps`, `sampler_name`, `scheduler`, `cfg_scale`) carry A1111's names.
 */
import Type, { type Static } from 'typebox';

const Str = Type.String();
const opt = <T extends Parameters<typeof Type.Optional>[0]>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export const ImageGenerateRequest = Type.Object(
  {
    prompt: Type.String({ description: 'What to draw' }),
    n: Type.Optional(Type.Integer({ default: 1, description: 'Images to make (batch size)' })),
    size: Type.Optional(Type.String({ default: '512x512', description: '"WxH", multiples of 8' })),
    response_format: Type.Optional(Type.String({ default: 'url', description: 'url or b64_json' })),
    model: opt(Type.String({ description: 'A checkpoint title, name or hash (GET /v1/models); default: the loaded one' })),
    quality: opt(Str),
    style: opt(Str),
    user: opt(Str),
    negative_prompt: opt(Str),
    seed: opt(Type.Integer()),
    steps: opt(Type.Integer()),
    sampler_name: opt(Str),
    scheduler: opt(Str),
    cfg_scale: opt(Type.Number()),
  },
  { $id: 'ImageGenerateRequest', title: 'ImageGenerateRequest' },
);
export type ImageGenerateRequest = Static<typeof ImageGenerateRequest>;

export const ImagesResponse = Type.Object(
  {
    created: Type.Integer(),
    data: Type.Array(Type.Object({ b64_json: Type.Optional(Str), url: Type.Optional(Str), revised_prompt: Type.Optional(Str) })),
  },
  { $id: 'ImagesResponse', title: 'ImagesResponse' },
);
export type ImagesResponse = Static<typeof ImagesResponse>;

export const OpenAIModel = Type.Object({ id: Str, object: Str, created: Type.Integer(), owned_by: Str }, { title: 'OpenAIModel' });
export const OpenAIModelList = Type.Object({ object: Str, data: Type.Array(OpenAIModel) }, { $id: 'OpenAIModelList', title: 'OpenAIModelList' });
export type OpenAIModelList = Static<typeof OpenAIModelList>;

export const OpenAIErrorBody = Type.Object(
  { error: Type.Object({ message: Str, type: Str, param: Type.Union([Str, Type.Null()]), code: Type.Union([Str, Type.Null()]) }) },
  { $id: 'OpenAIError', title: 'OpenAIError' },
);
export type OpenAIErrorBody = Static<typeof OpenAIErrorBody>;
