/** POST /sdapi/v1/png-info (spec §3.4; vector api_models.json `PNGInfoRequest`, `PNGInfoResponse`). */
import Type, { type Static } from 'typebox';

export const PNGInfoRequest = Type.Object(
  { image: Type.String({ title: 'Image', description: 'The base64 encoded image (a data: URL is accepted)' }) },
  { $id: 'PNGInfoRequest', title: 'PNGInfoRequest' },
);
export type PNGInfoRequest = Static<typeof PNGInfoRequest>;

export const PNGInfoResponse = Type.Object(
  {
    info: Type.String({ title: 'Image info', description: 'A string with the parameters used to generate the image' }),
    items: Type.Record(Type.String(), Type.Any(), { title: 'Items', description: 'A dictionary containing all the other fields the image had' }),
    parameters: Type.Record(Type.String(), Type.Any(), { title: 'Parameters', description: 'A dictionary with parsed generation info fields' }),
  },
  { $id: 'PNGInfoResponse', title: 'PNGInfoResponse' },
);
export type PNGInfoResponse = Static<typeof PNGInfoResponse>;
