/**
 * A1111's Script menu: None or one of the server's selectable scripts for the tab (`/sdapi/v1/script-info`), each
 * with a form built from its argument list: a checkbox for a boolean, checkboxes for a multiple choice, a menu for
 * a single choice, a number field with the script's range, a text box for text. Arguments without a label are
 * A1111's info placeholders: kept (positions matter) but not shown. The X/Y/Z plot brings its own form (children).
 */
import type { ScriptArg, ScriptInfo } from '@sdapi/client';
import type { ComponentChildren } from 'preact';
import { CheckField, type Errors, Field, NumberField, SelectField } from './fields.tsx';

interface Props {
  scripts: readonly ScriptInfo[];
  /** The chosen script's name, '' for None. */
  selected: string;
  onSelect: (name: string) => void;
  args: readonly unknown[];
  setArg: (index: number, value: unknown) => void;
  errors: Errors;
  /** A form of the page's own for the chosen script (the X/Y/Z plot), shown instead of the generic one. */
  children?: ComponentChildren;
}

/** A1111's titles of its scripts, which script-info gives lower-cased; other names show with a capital first letter. */
const TITLES = ['X/Y/Z plot', 'SD upscale', "Poor man's outpainting", 'Outpainting mk2', 'img2img alternative test'];
const title = (name: string) => TITLES.find((t) => t.toLowerCase() === name) ?? name.charAt(0).toUpperCase() + name.slice(1);

export function ScriptPicker({ scripts, selected, onSelect, args, setArg, errors, children }: Props) {
  const info = scripts.find((s) => s.name === selected);
  const options: [string, string][] = [['', 'None'], ...scripts.map((s): [string, string] => [s.name ?? '', title(s.name ?? '')])];
  return (
    <details class="controlnet script" open={Boolean(info)}>
      <summary>Script{info ? ` (${title(selected)})` : ''}</summary>
      <SelectField id="script_name" label="Script" field="script_name" value={info ? selected : ''} options={options} errors={errors} onChange={onSelect} />
      {info &&
        (children ??
          info.args.map((arg, i) => <ScriptArgField key={`${selected}-${i}`} arg={arg} index={i} value={args[i]} setArg={setArg} errors={errors} />))}
    </details>
  );
}

function ScriptArgField({
  arg,
  index,
  value,
  setArg,
  errors,
}: {
  arg: ScriptArg;
  index: number;
  value: unknown;
  setArg: (i: number, v: unknown) => void;
  errors: Errors;
}) {
  const id = `script_arg_${index}`;
  const label = arg.label ?? '';
  if (!label) return null;
  const set = (v: unknown) => setArg(index, v);
  if (typeof arg.value === 'boolean') return <CheckField label={label} checked={value === true} onChange={set} />;
  if (arg.choices && Array.isArray(arg.value)) {
    const chosen = Array.isArray(value) ? (value as string[]) : [];
    return (
      <fieldset class="choices">
        <legend>{label}</legend>
        {arg.choices.map((c) => (
          <CheckField key={c} label={c} checked={chosen.includes(c)} onChange={(on) => set(on ? [...chosen, c] : chosen.filter((x) => x !== c))} />
        ))}
      </fieldset>
    );
  }
  if (arg.choices) return <SelectField id={id} label={label} field={id} value={String(value ?? '')} options={arg.choices} errors={errors} onChange={set} />;
  if (typeof arg.value === 'number') {
    const num = (x: unknown) => (typeof x === 'number' ? x : undefined);
    return (
      <NumberField
        id={id}
        label={label}
        field={id}
        value={Number(value)}
        min={num(arg.minimum)}
        max={num(arg.maximum)}
        step={num(arg.step)}
        errors={errors}
        onInput={set}
      />
    );
  }
  return (
    <Field id={id} label={label} errors={errors}>
      {(a11y) => <textarea {...a11y} rows={3} value={String(value ?? '')} onInput={(e) => set((e.currentTarget as HTMLTextAreaElement).value)} />}
    </Field>
  );
}
