/**
 * GET /sdapi/v1/prompt-styles items (spec §3.15, §7): styles.csv rows in file order; with several style files a
 * divider item (`prompt`/`negative_prompt` null) precedes each file's styles.
 */
import Type, { type Static } from 'typebox';

export const PromptStyleItem = Type.Object(
  {
    name: Type.String(),
    prompt: Type.Union([Type.String(), Type.Null()]),
    negative_prompt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'PromptStyleItem', title: 'PromptStyleItem' },
);
export type PromptStyleItem = Static<typeof PromptStyleItem>;

export const PromptStyleList = Type.Array(PromptStyleItem);
export type PromptStyleList = Static<typeof PromptStyleList>;
