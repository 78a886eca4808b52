/**
 * Extras: upscale images (A1111's Extras tab fields) as a job, so it shows in the progress panel, the results and
 * the history like a generation: one image is an `extra-single-image` job, several one `extra-batch-images` job.
 * Scale by a factor or to a size (optionally cropped to it), with a second upscaler blended in.
 */
import type { ExtrasState, NamedImage } from '../form.ts';
import { fieldSetter } from '../form.ts';
import { CheckField, type Errors, FieldError, NumberField, SelectField } from './fields.tsx';
import { ImageDrop } from './image-drop.tsx';

interface Props {
  extras: ExtrasState;
  setExtras: (update: (e: ExtrasState) => ExtrasState) => void;
  images: readonly NamedImage[];
  onFile: (file: File) => void;
  onRemove: () => void;
  /** GET /upscalers names, `None` first. */
  upscalers: string[];
  errors: Errors;
  onSubmit: () => void;
  submitting: boolean;
}

export function ExtrasForm({ extras, setExtras, images, onFile, onRemove, upscalers, errors, onSubmit, submitting }: Props) {
  const set = fieldSetter(setExtras);
  const byFactor = extras.resize_mode === 0;
  return (
    <form
      class="extras"
      // The server's 422 names the field (as in the generate form); the browser's own check would hide it.
      noValidate
      aria-label="Extras: upscale an image"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {images.length > 0 && (
        <div class="extras-image">
          {images.map((image, i) => (
            <img key={`${i}-${image.name}`} src={image.dataUrl} alt={`To upscale: ${image.name}`} class="png-thumb" />
          ))}
          <p class="hint">
            {images.length === 1
              ? `${images[0].width} × ${images[0].height}${byFactor ? ` → about ${Math.floor(images[0].width * extras.upscaling_resize)} × ${Math.floor(images[0].height * extras.upscaling_resize)}` : ''}. `
              : `${images.length} images, one batch job. `}
            <button type="button" class="link" onClick={onRemove}>
              {images.length === 1 ? 'Remove image' : 'Remove images'}
            </button>
          </p>
        </div>
      )}
      <ImageDrop
        id="extras_image"
        label={images.length === 0 ? 'Choose images' : 'Add images'}
        accept="image/*"
        multiple
        onFile={onFile}
        describedBy={errors.image ? 'extras_image-error' : undefined}
      />
      <FieldError id="extras_image" field="image" error={errors.image} />
      <div class="row">
        <SelectField
          id="extras_resize_mode"
          label="Resize"
          field="resize_mode"
          value={String(extras.resize_mode)}
          options={[
            ['0', 'Scale by'],
            ['1', 'Scale to'],
          ]}
          errors={errors}
          onChange={(v) => set('resize_mode')(v === '1' ? 1 : 0)}
        />
        {byFactor ? (
          <NumberField
            id="upscaling_resize"
            label="Scale factor"
            field="upscaling_resize"
            value={extras.upscaling_resize}
            min={1}
            max={8}
            step={0.05}
            errors={errors}
            onInput={set('upscaling_resize')}
          />
        ) : (
          <>
            <NumberField
              id="upscaling_resize_w"
              label="Width"
              field="upscaling_resize_w"
              value={extras.upscaling_resize_w}
              min={64}
              step={8}
              errors={errors}
              onInput={set('upscaling_resize_w')}
            />
            <NumberField
              id="upscaling_resize_h"
              label="Height"
              field="upscaling_resize_h"
              value={extras.upscaling_resize_h}
              min={64}
              step={8}
              errors={errors}
              onInput={set('upscaling_resize_h')}
            />
          </>
        )}
      </div>
      {!byFactor && <CheckField label="Crop to fit" checked={extras.upscaling_crop} onChange={set('upscaling_crop')} />}
      <div class="row">
        <SelectField
          id="upscaler_1"
          label="Upscaler"
          field="upscaler_1"
          value={extras.upscaler_1}
          options={upscalers}
          errors={errors}
          onChange={set('upscaler_1')}
        />
        <SelectField
          id="upscaler_2"
          label="Upscaler 2"
          field="upscaler_2"
          value={extras.upscaler_2}
          options={upscalers}
          errors={errors}
          onChange={set('upscaler_2')}
        />
        <NumberField
          id="extras_upscaler_2_visibility"
          label="Upscaler 2 visibility"
          field="extras_upscaler_2_visibility"
          value={extras.extras_upscaler_2_visibility}
          min={0}
          max={1}
          step={0.05}
          errors={errors}
          onInput={set('extras_upscaler_2_visibility')}
        />
      </div>
      <button type="submit" class="primary" disabled={submitting}>
        {submitting ? 'Submitting…' : 'Upscale'}
      </button>
    </form>
  );
}
