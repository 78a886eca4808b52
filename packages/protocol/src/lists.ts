/**
 * The small GET lists clients read at start-up (spec §3.12, §3.14; vector api_models.json `UpscalerItem`,
 * `LatentUpscalerModeItem`, `SDVaeItem`, `HypernetworkItem`, `FaceRestorerItem`, `RealesrganItem`).
 */
import Type, { type Static } from 'typebox';

const OptStr = Type.Union([Type.String(), Type.Null()]);
const OptNum = Type.Union([Type.Number(), Type.Null()]);

export const UpscalerItem = Type.Object(
  { name: Type.String(), model_name: OptStr, model_path: OptStr, model_url: OptStr, scale: OptNum },
  { $id: 'UpscalerItem', title: 'UpscalerItem' },
);
export type UpscalerItem = Static<typeof UpscalerItem>;
export const UpscalerList = Type.Array(UpscalerItem);
export type UpscalerList = Static<typeof UpscalerList>;

export const LatentUpscalerModeItem = Type.Object({ name: Type.String() }, { $id: 'LatentUpscalerModeItem', title: 'LatentUpscalerModeItem' });
export type LatentUpscalerModeItem = Static<typeof LatentUpscalerModeItem>;
export const LatentUpscalerModeList = Type.Array(LatentUpscalerModeItem);
export type LatentUpscalerModeList = Static<typeof LatentUpscalerModeList>;

export const SDVaeItem = Type.Object({ model_name: Type.String(), filename: Type.String() }, { $id: 'SDVaeItem', title: 'SDVaeItem' });
export type SDVaeItem = Static<typeof SDVaeItem>;
export const SDVaeList = Type.Array(SDVaeItem);
export type SDVaeList = Static<typeof SDVaeList>;

export const HypernetworkItem = Type.Object({ name: Type.String(), path: OptStr }, { $id: 'HypernetworkItem', title: 'HypernetworkItem' });
export type HypernetworkItem = Static<typeof HypernetworkItem>;
export const HypernetworkList = Type.Array(HypernetworkItem);
export type HypernetworkList = Static<typeof HypernetworkList>;

export const FaceRestorerItem = Type.Object({ name: Type.String(), cmd_dir: OptStr }, { $id: 'FaceRestorerItem', title: 'FaceRestorerItem' });
export type FaceRestorerItem = Static<typeof FaceRestorerItem>;
export const FaceRestorerList = Type.Array(FaceRestorerItem);
export type FaceRestorerList = Static<typeof FaceRestorerList>;

export const RealesrganItem = Type.Object(
  { name: Type.String(), path: OptStr, scale: Type.Union([Type.Integer(), Type.Null()]) },
  { $id: 'RealesrganItem', title: 'RealesrganItem' },
);
export type RealesrganItem = Static<typeof RealesrganItem>;
export const RealesrganList = Type.Array(RealesrganItem);
export type RealesrganList = Static<typeof RealesrganList>;
