// A1111's selectable scripts as data: the X/Y/Z axis tables, its value parser and CSV (pure, no schema library).
export { parseCsvFields, toCsvRow } from './csv.ts';
export { findXyzAxis, type XyzAxisOption, type XyzTab, type XyzValueType, type XyzVersion, xyzAxisOptions } from './xyz-axes.ts';
export { type AxisValuesInput, csvItems, expandXyzAxisValues, formatXyzValue } from './xyz-values.ts';
