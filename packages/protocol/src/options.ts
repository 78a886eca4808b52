/**
 * GET/POST /sdapi/v1/options (spec §3.8–3.9). The response carries every option key (§10; 300+ keys), so it is
 * typed as an open record with the keys clients use most spelled out.
 */
import Type, { type Static } from 'typebox';

export const Options = Type.Object(
  {
    sd_model_checkpoint: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    sd_checkpoint_hash: Type.Optional(Type.String()),
    CLIP_stop_at_last_layers: Type.Optional(Type.Number()),
    eta_noise_seed_delta: Type.Optional(Type.Number()),
    randn_source: Type.Optional(Type.String()),
    samples_format: Type.Optional(Type.String()),
    enable_pnginfo: Type.Optional(Type.Boolean()),
  },
  { $id: 'Options', title: 'Options', additionalProperties: true },
);
export type Options = Static<typeof Options> & Record<string, unknown>;

/** POST body: any subset of option keys; values are stored as given (A1111 does no type validation). */
export const OptionsUpdate = Type.Record(Type.String(), Type.Any(), { title: 'Req' });
export type OptionsUpdate = Static<typeof OptionsUpdate>;

/** GET /sdapi/v1/cmd-flags: one key per command-line flag destination (spec §3.10, §11). */
export const CmdFlags = Type.Record(Type.String(), Type.Any(), { $id: 'Flags', title: 'Flags' });
export type CmdFlags = Static<typeof CmdFlags>;
