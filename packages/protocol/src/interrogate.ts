/** POST /sdapi/v1/interrogate (spec §3.6; vector api_models.json `InterrogateRequest`/`InterrogateResponse`). */
import Type, { type Static } from 'typebox';
import { withDefault } from './fields.ts';

export const InterrogateRequest = Type.Object(
  {
    image: withDefault(Type.String({ description: 'base64 or data: URL' }), ''),
    model: withDefault(Type.String({ description: '"clip" or "deepdanbooru"; anything else is a 404 `Model not found`' }), 'clip'),
  },
  { $id: 'InterrogateRequest', title: 'InterrogateRequest' },
);
export type InterrogateRequest = Static<typeof InterrogateRequest>;

export const InterrogateResponse = Type.Object(
  { caption: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null })) },
  { $id: 'InterrogateResponse', title: 'InterrogateResponse' },
);
export type InterrogateResponse = Static<typeof InterrogateResponse>;
