/**
 * ControlNet, as A1111 shows it: `control_net_unit_count` units (the server's `/controlnet/settings`), one at a
 * time behind a row of unit buttons, each with its own control image. Folded away until opened; every enabled unit
 * with an image and a model is sent, in unit order.
 */
import { useState } from 'preact/hooks';
import type { ControlNetSlot, ControlNetState } from '../form.ts';
import { ControlNetUnitForm } from './controlnet-unit.tsx';
import type { Errors } from './fields.tsx';

interface Props {
  slots: readonly ControlNetSlot[];
  setUnit: (index: number, update: (u: ControlNetState) => ControlNetState) => void;
  onFile: (index: number, file: File) => void;
  onRemove: (index: number) => void;
  modules: readonly string[];
  models: readonly string[];
  errors: Errors;
}

export function ControlNetUnits({ slots, setUnit, onFile, onRemove, modules, models, errors }: Props) {
  const [shown, setShown] = useState(0);
  const index = Math.min(shown, slots.length - 1);
  const on = slots.filter((s) => s.unit.enabled).length;
  return (
    <details class="controlnet" open={on > 0}>
      <summary>ControlNet{on > 0 ? ` (${on} on)` : ''}</summary>
      {models.length === 0 ? (
        <small class="hint">No ControlNet models: put .safetensors files in models/ControlNet of the data folder.</small>
      ) : (
        <>
          {slots.length > 1 && (
            <fieldset class="modes units">
              <legend class="visually-hidden">ControlNet unit</legend>
              {slots.map((slot, i) => (
                <button key={i} type="button" aria-pressed={index === i} onClick={() => setShown(i)}>
                  Unit {i}
                  {slot.unit.enabled ? ' (on)' : ''}
                </button>
              ))}
            </fieldset>
          )}
          <ControlNetUnitForm
            key={index}
            unit={slots[index].unit}
            setUnit={(update) => setUnit(index, update)}
            image={slots[index].image}
            onFile={(file) => onFile(index, file)}
            onRemove={() => onRemove(index)}
            modules={modules}
            models={models}
            errors={errors}
          />
        </>
      )}
    </details>
  );
}
