/**
 * `GET /controlnet/control_types` (controlnet-api.md §8): for `All` and every control-type tag of §9.1, the modules
 * of that type, the ControlNet models that fit it ("None" first), and the defaults a UI preselects.
 *
 * PARTIAL / inferred: the spec gives the route's shape and the tag list but not which tags each module carries nor
 * how the extension filters models and picks defaults; those below are the extension's behaviour as we understand it
 * (a model fits a type when the lower-cased tag, or one of its short forms, is part of the model's name; the default
 * model is the first fitting one whose name contains "11" (a v1.1 model), else the first fitting one, else "None";
 * the default module is the type's first). The module lists hold the modules this server runs (GET
 * /controlnet/module_list), not the extension's 72.
 */
import { PREPROCESSORS } from '@sdapi/engine';

/** The control types of a complete v1.1.455 installation (§9.1), besides `All`. */
export const CONTROL_TYPE_TAGS = [
  'Canny',
  'Depth',
  'IP-Adapter',
  'Inpaint',
  'Instant-ID',
  'InstructP2P',
  'Lineart',
  'MLSD',
  'NormalMap',
  'OpenPose',
  'Recolor',
  'Reference',
  'Revision',
  'Scribble',
  'Segmentation',
  'Shuffle',
  'SoftEdge',
  'SparseCtrl',
  'T2I-Adapter',
  'Tile',
] as const;

/** The types of the modules this server runs (inferred, see above); `none` belongs to `All` only. */
const MODULE_TAGS: Record<string, readonly string[]> = {
  canny: ['Canny'],
  invert: ['Canny', 'Lineart', 'MLSD', 'Scribble'],
  threshold: ['Scribble'],
  scribble_xdog: ['Scribble'],
  lineart_standard: ['Lineart'],
  tile_resample: ['Tile'],
  blur_gaussian: ['Tile'],
  color: ['T2I-Adapter'],
  shuffle: ['Shuffle'],
  recolor_luminance: ['Recolor'],
  recolor_intensity: ['Recolor'],
};

/** Short forms model files use for a type's name (lower case). */
const MODEL_NAME_ALIASES: Record<string, readonly string[]> = {
  instructp2p: ['ip2p'],
  segmentation: ['seg'],
  normalmap: ['normal'],
  't2i-adapter': ['t2i_adapter', 't2iadapter', 't2ia'],
  'ip-adapter': ['ip_adapter'],
  'instant-id': ['instant_id', 'instantid'],
};

export interface ControlType {
  module_list: string[];
  model_list: string[];
  default_option: string;
  default_model: string;
}

function forTag(tag: string, models: readonly string[]): ControlType {
  const pattern = tag.toLowerCase();
  const keys = [pattern, ...(MODEL_NAME_ALIASES[pattern] ?? [])];
  const fitting = models.filter((m) => keys.some((k) => m.toLowerCase().includes(k)));
  const module_list = PREPROCESSORS.filter((p) => MODULE_TAGS[p.name]?.includes(tag)).map((p) => p.label);
  const v11 = fitting.find((m) => (m.split('[')[0] ?? m).includes('11'));
  return {
    module_list,
    model_list: ['None', ...fitting],
    default_option: module_list[0] ?? 'none',
    default_model: v11 ?? fitting[0] ?? 'None',
  };
}

/** The route's body for the ControlNet model names `models` (as /controlnet/model_list lists them). */
export function controlTypes(models: readonly string[]): { control_types: Record<string, ControlType> } {
  const control_types: Record<string, ControlType> = {
    All: { module_list: PREPROCESSORS.map((p) => p.label), model_list: ['None', ...models], default_option: 'none', default_model: 'None' },
  };
  for (const tag of CONTROL_TYPE_TAGS) control_types[tag] = forTag(tag, models);
  return { control_types };
}
