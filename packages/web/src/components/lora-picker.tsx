/**
 * LoRA picker: the server's LoRA/LyCORIS files (GET /sdapi/v1/loras) and a weight; "Add to prompt" appends A1111's
 * tag `<lora:alias:weight>` to the prompt, where the server's prompt parser picks it up.
 */
import { useState } from 'preact/hooks';
import { type Errors, NumberField, SelectField } from './fields.tsx';

interface Props {
  /** The names tags use (each file's `alias`). */
  loras: readonly string[];
  onAdd: (tag: string) => void;
  errors: Errors;
}

/** `<lora:name:weight>` with the weight as a short decimal (1, 0.5, 0.75). */
export function loraTag(name: string, weight: number): string {
  return `<lora:${name}:${Number.isFinite(weight) ? Number(weight.toFixed(3)) : 1}>`;
}

export function LoraPicker({ loras, onAdd, errors }: Props) {
  const [chosen, setChosen] = useState('');
  const [weight, setWeight] = useState(1);
  const name = chosen || loras[0] || '';
  if (loras.length === 0) return <small class="hint">No LoRAs: put .safetensors files in models/Lora of the data folder.</small>;
  return (
    <div class="row lora-picker">
      <SelectField id="lora" label="LoRA" field="lora" value={name} options={loras} errors={errors} onChange={setChosen} />
      <NumberField id="lora_weight" label="LoRA weight" field="lora_weight" value={weight} min={-2} max={2} step={0.05} errors={errors} onInput={setWeight} />
      <button type="button" class="add-lora" onClick={() => onAdd(loraTag(name, weight))}>
        Add to prompt
      </button>
    </div>
  );
}
