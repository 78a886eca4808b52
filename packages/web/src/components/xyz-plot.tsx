/**
 * The X/Y/Z plot's form in the Script menu on txt2img (sent in the typed form `scripts.xyz_plot`): X, Y and Z axes, each a
 * parameter from the server's own axis table (`/sdapi/v1/script-info`) and its values in A1111's syntax
 * (`1,2,3`, `10-30 (+10)`, `1-5 [3]`, …). The result is the grid first (with a Z axis, the Z values' grids side by
 * side), then, if asked for, each Z value's grid and each cell's image.
 */
import type { XyzState } from '../form.ts';
import { fieldSetter } from '../form.ts';
import { CheckField, type Errors, Field, SelectField } from './fields.tsx';

interface Props {
  xyz: XyzState;
  setXyz: (update: (x: XyzState) => XyzState) => void;
  /** The axis labels the server takes (its txt2img axis table). */
  axes: readonly string[];
  errors: Errors;
}

export function XyzPlotForm({ xyz, setXyz, axes, errors }: Props) {
  const set = fieldSetter(setXyz);
  const values = (id: string, label: string, key: 'xValues' | 'yValues' | 'zValues') => (
    <Field id={id} label={label} errors={errors} hint={key === 'xValues' ? 'e.g. 1,2,3 or 10-30 (+10)' : undefined}>
      {(a11y) => <input {...a11y} type="text" value={xyz[key]} onInput={(e) => set(key)((e.currentTarget as HTMLInputElement).value)} />}
    </Field>
  );
  return (
    <>
      <div class="row">
        <SelectField id="xyz_x_axis" label="X axis" field="xyz_x_axis" value={xyz.xAxis} options={axes} errors={errors} onChange={set('xAxis')} />
        {values('xyz_x_values', 'X values', 'xValues')}
      </div>
      <div class="row">
        <SelectField id="xyz_y_axis" label="Y axis" field="xyz_y_axis" value={xyz.yAxis} options={axes} errors={errors} onChange={set('yAxis')} />
        {values('xyz_y_values', 'Y values', 'yValues')}
      </div>
      <div class="row">
        <SelectField id="xyz_z_axis" label="Z axis" field="xyz_z_axis" value={xyz.zAxis} options={axes} errors={errors} onChange={set('zAxis')} />
        {values('xyz_z_values', 'Z values', 'zValues')}
      </div>
      <CheckField label="Also each cell's image" checked={xyz.includeLone} onChange={set('includeLone')} />
      <CheckField label="Also each Z value's grid" checked={xyz.includeSubGrids} onChange={set('includeSubGrids')} />
    </>
  );
}
