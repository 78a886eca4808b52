/** img2img's extra inputs: the init image (drop, paste, file), denoising strength, resize mode, the mask painter. */
import type { FormState, InitImage } from '../form.ts';
import { fieldSetter, INPAINTING_FILLS, RESIZE_MODES } from '../form.ts';
import { CheckField, type Errors, FieldError, NumberField, SelectField } from './fields.tsx';
import { ImageDrop } from './image-drop.tsx';
import { type MaskHandle, MaskPainter } from './mask-painter.tsx';

interface Props {
  form: FormState;
  setForm: (update: (f: FormState) => FormState) => void;
  init: InitImage | null;
  onFile: (file: File) => void;
  onRemove: () => void;
  mask: { current: MaskHandle | null };
  errors: Errors;
}

export function Img2ImgInputs({ form, setForm, init, onFile, onRemove, mask, errors }: Props) {
  const set = fieldSetter(setForm);
  return (
    <section class="img2img" aria-label="img2img and inpainting">
      {init ? (
        <>
          <MaskPainter image={init} handle={mask} />
          <p class="hint">
            {init.width} × {init.height}. Paint a mask to inpaint; leave it empty for img2img.{' '}
            <button type="button" class="link" onClick={onRemove}>
              Remove image
            </button>
          </p>
        </>
      ) : (
        <ImageDrop id="init_image" label="Choose an image" accept="image/*" onFile={onFile} describedBy={errors.init_images ? 'init_image-error' : undefined} />
      )}
      <FieldError id="init_image" field="init_images" error={errors.init_images} />
      <div class="row">
        <NumberField
          id="denoising_strength"
          label="Denoising strength"
          field="denoising_strength"
          value={form.denoising_strength}
          min={0}
          max={1}
          step={0.01}
          errors={errors}
          onInput={set('denoising_strength')}
        />
        <SelectField
          id="resize_mode"
          label="Resize mode"
          field="resize_mode"
          value={String(form.resize_mode)}
          options={byIndex(RESIZE_MODES)}
          errors={errors}
          onChange={(v) => set('resize_mode')(Number(v))}
        />
      </div>
      {init && (
        <div class="row">
          <NumberField
            id="mask_blur"
            label="Mask blur"
            field="mask_blur"
            value={form.mask_blur}
            min={0}
            max={64}
            step={1}
            errors={errors}
            onInput={set('mask_blur')}
          />
          <SelectField
            id="inpainting_fill"
            label="Masked content"
            field="inpainting_fill"
            value={String(form.inpainting_fill)}
            options={byIndex(INPAINTING_FILLS)}
            errors={errors}
            onChange={(v) => set('inpainting_fill')(Number(v))}
          />
          <CheckField label="Only masked area" checked={form.inpaint_full_res} onChange={set('inpaint_full_res')} />
        </div>
      )}
    </section>
  );
}

/** An A1111 enum sent as its index: option values '0', '1', … labelled with the names. */
const byIndex = (names: readonly string[]): [string, string][] => names.map((name, i) => [String(i), name]);
