/**
 * The fields of one ControlNet unit (the sd-webui-controlnet extension's, sent in `alwayson_scripts.controlnet.args`):
 * a control image, a preprocessor (`/controlnet/module_list`; `none` uses the image as the hint), a model
 * (`/controlnet/model_list`), its weight, when it acts and how it weighs against the prompt. Only an enabled unit
 * with an image and a model is sent. controlnet-units.tsx shows one unit at a time.
 */
import type { ControlNetState, InitImage } from '../form.ts';
import { CONTROL_MODES, fieldSetter } from '../form.ts';
import { CheckField, type Errors, FieldError, NumberField, SelectField } from './fields.tsx';
import { ImageDrop } from './image-drop.tsx';

interface Props {
  unit: ControlNetState;
  setUnit: (update: (u: ControlNetState) => ControlNetState) => void;
  image: InitImage | null;
  onFile: (file: File) => void;
  onRemove: () => void;
  modules: readonly string[];
  models: readonly string[];
  errors: Errors;
}

export function ControlNetUnitForm({ unit, setUnit, image, onFile, onRemove, modules, models, errors }: Props) {
  const set = fieldSetter(setUnit);
  return (
    <>
      <CheckField label="Enable" checked={unit.enabled} onChange={set('enabled')} />
      {image ? (
        <p class="hint">
          <img src={image.dataUrl} alt="Control" class="png-thumb" /> {image.width} × {image.height}.{' '}
          <button type="button" class="link" onClick={onRemove}>
            Remove image
          </button>
        </p>
      ) : (
        <ImageDrop
          id="controlnet_image"
          label="Choose a control image"
          accept="image/*"
          onFile={onFile}
          describedBy={errors.controlnet_image ? 'controlnet_image-error' : undefined}
        />
      )}
      <FieldError id="controlnet_image" field="controlnet_image" error={errors.controlnet_image} />
      <div class="row">
        <SelectField
          id="controlnet_module"
          label="Preprocessor"
          field="controlnet_module"
          value={unit.module}
          options={modules}
          errors={errors}
          onChange={set('module')}
        />
        <SelectField
          id="controlnet_model"
          label="ControlNet model"
          field="controlnet_model"
          value={unit.model || models[0]}
          options={models}
          errors={errors}
          onChange={set('model')}
        />
      </div>
      <div class="row">
        <NumberField
          id="controlnet_weight"
          label="Control weight"
          field="controlnet_weight"
          value={unit.weight}
          min={0}
          max={2}
          step={0.05}
          errors={errors}
          onInput={set('weight')}
        />
        <NumberField
          id="guidance_start"
          label="Starting step"
          field="guidance_start"
          value={unit.guidance_start}
          min={0}
          max={1}
          step={0.01}
          errors={errors}
          onInput={set('guidance_start')}
        />
        <NumberField
          id="guidance_end"
          label="Ending step"
          field="guidance_end"
          value={unit.guidance_end}
          min={0}
          max={1}
          step={0.01}
          errors={errors}
          onInput={set('guidance_end')}
        />
      </div>
      <SelectField
        id="control_mode"
        label="Control mode"
        field="control_mode"
        value={unit.control_mode}
        options={CONTROL_MODES}
        errors={errors}
        onChange={set('control_mode')}
      />
    </>
  );
}
