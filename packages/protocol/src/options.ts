/**
 * GET/POST /sdapi/v1/options (spec §3.8–3.9). The response carries every option key (§10; 300+ keys) whose JSON
 * types depend on whether the value was ever stored (`80` vs `80.0`), so the schema constrains nothing and only
 * the TypeScript type spells out the keys clients use most.
 */
import Type, { type Static } from 'typebox';

const any = <T>() => Type.Optional(Type.Unsafe<T>({}));

export const Options = Type.Object(
  {
    sd_model_checkpoint: any<string | null>(),
    sd_checkpoint_hash: any<string>(),
    CLIP_stop_at_last_layers: any<number>(),
    eta_noise_seed_delta: any<number>(),
    randn_source: any<'GPU' | 'CPU' | 'NV'>(),
    samples_format: any<string>(),
    enable_pnginfo: any<boolean>(),
    jpeg_quality: any<number>(),
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
