/** GET /sdapi/v1/progress (spec §3.5): query `ProgressRequest`, response `ProgressResponse`. */
import Type, { type Static } from 'typebox';
import { withDefault } from './fields.ts';

export const ProgressRequest = Type.Object({ skip_current_image: withDefault(Type.Boolean(), false) }, { $id: 'ProgressRequest', title: 'ProgressRequest' });
export type ProgressRequest = Static<typeof ProgressRequest>;

/** A1111's `shared.state.dict()`, keys in this order. */
export const ProgressState = Type.Object(
  {
    skipped: Type.Boolean(),
    interrupted: Type.Boolean(),
    stopping_generation: Type.Boolean(),
    job: Type.String(),
    job_count: Type.Integer(),
    job_timestamp: Type.String(),
    job_no: Type.Integer(),
    sampling_step: Type.Integer(),
    sampling_steps: Type.Integer(),
  },
  { title: 'ProgressState' },
);
export type ProgressState = Static<typeof ProgressState>;

export const ProgressResponse = Type.Object(
  {
    progress: Type.Number({ description: 'The progress with a range of 0 to 1' }),
    eta_relative: Type.Number(),
    state: ProgressState,
    current_image: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null })),
    textinfo: Type.Optional(Type.Union([Type.String(), Type.Null()], { default: null })),
  },
  { $id: 'ProgressResponse', title: 'ProgressResponse' },
);
export type ProgressResponse = Static<typeof ProgressResponse>;
