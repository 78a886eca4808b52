/**
 * GET /sdapi/v1/scripts, /script-info and /extensions (spec §3.22–3.24; vector api_models.json `ScriptsList`,
 * `ScriptInfo`, `ScriptArg`, `ExtensionItem`). Script names are the lower-cased titles.
 */
import Type, { type Static, type TSchema } from 'typebox';

const optional = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()], { default: null }));

export const ScriptsList = Type.Object(
  { txt2img: optional(Type.Array(Type.String())), img2img: optional(Type.Array(Type.String())) },
  { $id: 'ScriptsList', title: 'ScriptsList' },
);
export type ScriptsList = Static<typeof ScriptsList>;

/** One UI control of a script, in `script_args` order: its default `value` and the allowed range or choices. */
export const ScriptArg = Type.Object(
  {
    label: optional(Type.String()),
    value: optional(Type.Any()),
    minimum: optional(Type.Any()),
    maximum: optional(Type.Any()),
    step: optional(Type.Any()),
    choices: optional(Type.Array(Type.String())),
  },
  { $id: 'ScriptArg', title: 'ScriptArg' },
);
export type ScriptArg = Static<typeof ScriptArg>;

export const ScriptInfo = Type.Object(
  {
    name: optional(Type.String()),
    is_alwayson: optional(Type.Boolean()),
    is_img2img: optional(Type.Boolean()),
    args: Type.Array(ScriptArg),
  },
  { $id: 'ScriptInfo', title: 'ScriptInfo' },
);
export type ScriptInfo = Static<typeof ScriptInfo>;

export const ScriptInfoList = Type.Array(ScriptInfo);
export type ScriptInfoList = Static<typeof ScriptInfoList>;

/** An installed extension that is a git checkout (builtin extensions are not listed). */
export const ExtensionItem = Type.Object(
  {
    name: Type.String(),
    remote: Type.String(),
    branch: Type.String(),
    commit_hash: Type.String(),
    version: Type.String(),
    commit_date: Type.String({ description: 'Unix time as a string' }),
    enabled: Type.Boolean(),
  },
  { $id: 'ExtensionItem', title: 'ExtensionItem' },
);
export type ExtensionItem = Static<typeof ExtensionItem>;

export const ExtensionList = Type.Array(ExtensionItem);
export type ExtensionList = Static<typeof ExtensionList>;
