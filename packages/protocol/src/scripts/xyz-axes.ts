/**
 * The X/Y/Z plot script's axis tables (spec a1111-api.md §5.3; vectors xyz_axis_options.json and
 * xyz_axis_options.dev.json): `x_type`/`y_type`/`z_type` are indices into the tab's table, so a client must
 * know it. One ordered list covers both tabs and both versions; filtering gives each table.
 */

export type XyzTab = 'txt2img' | 'img2img';
/** `v1.10.1` (the release nearly everyone runs) or A1111's `dev` branch, which inserted "Skip Early CFG". */
export type XyzVersion = 'v1.10.1' | 'dev';
export type XyzValueType = 'int' | 'float' | 'str' | 'str_permutations';

export interface XyzAxisOption {
  index: number;
  label: string;
  type: XyzValueType;
  /** Values come from the `*_values_dropdown` list unless `csv_mode` is on. */
  hasChoices: boolean;
  /** Axes with a higher cost (checkpoint, VAE) are iterated outermost. */
  cost: number;
}

type Row = [label: string, type: XyzValueType, hasChoices: boolean, cost: number, tab: XyzTab | 'both', devOnly?: 'dev'];

const AXES: readonly Row[] = [
  ['Nothing', 'str', false, 0, 'both'],
  ['Seed', 'int', false, 0, 'both'],
  ['Var. seed', 'int', false, 0, 'both'],
  ['Var. strength', 'float', false, 0, 'both'],
  ['Steps', 'int', false, 0, 'both'],
  ['Hires steps', 'int', false, 0, 'txt2img'],
  ['CFG Scale', 'float', false, 0, 'both'],
  ['Image CFG Scale', 'float', false, 0, 'img2img'],
  ['Prompt S/R', 'str', false, 0, 'both'],
  ['Prompt order', 'str_permutations', false, 0, 'both'],
  ['Sampler', 'str', true, 0, 'both'],
  ['Hires sampler', 'str', true, 0, 'txt2img'],
  ['Checkpoint name', 'str', true, 1, 'both'],
  ['Negative Guidance minimum sigma', 'float', false, 0, 'both'],
  ['Sigma Churn', 'float', false, 0, 'both'],
  ['Sigma min', 'float', false, 0, 'both'],
  ['Sigma max', 'float', false, 0, 'both'],
  ['Sigma noise', 'float', false, 0, 'both'],
  ['Schedule type', 'str', true, 0, 'both'],
  ['Schedule min sigma', 'float', false, 0, 'both'],
  ['Schedule max sigma', 'float', false, 0, 'both'],
  ['Schedule rho', 'float', false, 0, 'both'],
  ['Skip Early CFG', 'float', false, 0, 'both', 'dev'],
  ['Beta schedule alpha', 'float', false, 0, 'both'],
  ['Beta schedule beta', 'float', false, 0, 'both'],
  ['Eta', 'float', false, 0, 'both'],
  ['Clip skip', 'int', false, 0, 'both'],
  ['Denoising', 'float', false, 0, 'both'],
  ['Initial noise multiplier', 'float', false, 0, 'both'],
  ['Extra noise', 'float', false, 0, 'both'],
  ['Hires upscaler', 'str', true, 0, 'txt2img'],
  ['Cond. Image Mask Weight', 'float', false, 0, 'img2img'],
  ['VAE', 'str', true, 0.7, 'both'],
  ['Styles', 'str', true, 0, 'both'],
  ['UniPC Order', 'int', false, 0.5, 'both'],
  ['Face restore', 'str', false, 0, 'both'],
  ['Token merging ratio', 'float', false, 0, 'both'],
  ['Token merging ratio high-res', 'float', false, 0, 'both'],
  ['Always discard next-to-last sigma', 'str', true, 0, 'both'],
  ['SGM noise multiplier', 'str', true, 0, 'both'],
  ['Refiner checkpoint', 'str', true, 1, 'both'],
  ['Refiner switch at', 'float', false, 0, 'both'],
  ['RNG source', 'str', true, 0, 'both'],
  ['FP8 mode', 'str', true, 0.9, 'both'],
  ['Size', 'str', false, 0, 'both'],
];

/** The axis table of a tab, indices as the script expects them. Extensions may append more axes at the end. */
export function xyzAxisOptions(tab: XyzTab = 'txt2img', version: XyzVersion = 'v1.10.1'): XyzAxisOption[] {
  return AXES.filter(([, , , , t, dev]) => (t === 'both' || t === tab) && (dev === undefined || version === 'dev')).map(
    ([label, type, hasChoices, cost], index) => ({
      index,
      label,
      type,
      hasChoices,
      cost,
    }),
  );
}

/** An axis by label (case-insensitive) or index; unknown ones throw with the valid labels. */
export function findXyzAxis(axis: string | number, tab: XyzTab = 'txt2img', version: XyzVersion = 'v1.10.1'): XyzAxisOption {
  const table = xyzAxisOptions(tab, version);
  const found = typeof axis === 'number' ? table[axis] : table.find((a) => a.label.toLowerCase() === axis.toLowerCase());
  if (!found) {
    throw new RangeError(`X/Y/Z plot: no ${tab} axis ${JSON.stringify(axis)} in A1111 ${version}; valid: ${table.map((a) => a.label).join(', ')}`);
  }
  return found;
}
