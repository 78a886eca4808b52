/** A unit on the tiny ControlNet fixture, the extension's defaults for every field not given. */
import { type ControlNetUnitParams, controlNetUnit } from '../../src/pipeline/control-units.ts';
import { fixturePath } from './fixtures.ts';

export function tinyControlNetUnit(fields: Pick<ControlNetUnitParams, 'image'> & Partial<ControlNetUnitParams>): ControlNetUnitParams {
  return controlNetUnit({ modelPath: fixturePath('controlnet', 'tiny-controlnet.safetensors'), modelName: 'tiny-controlnet [8dba536e]', ...fields });
}
