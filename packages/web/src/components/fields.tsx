/** Labelled inputs that show the API's complaint about their field right under them (aria-describedby). */
import type { ComponentChildren } from 'preact';

export type Errors = Record<string, string>;

interface FieldProps {
  id: string;
  label: string;
  /** The wire field whose API error belongs here. */
  field?: string;
  errors: Errors;
  children: (a11y: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ComponentChildren;
  hint?: string;
}

export function Field({ id, label, field, errors, children, hint }: FieldProps) {
  const error = field ? errors[field] : undefined;
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      )}
      <FieldError id={id} field={field} error={error} />
    </div>
  );
}

/**
 * The API's complaint about `field`, under the input `id` describes (its `aria-describedby` is `${id}-error`);
 * `data-field` lets the page focus the first field the server named. Nothing when there is no error.
 */
export function FieldError({ id, field, error }: { id: string; field?: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <p id={`${id}-error`} class="field-error" data-field={field}>
      {error}
    </p>
  );
}

interface NumberFieldProps {
  id: string;
  label: string;
  field: string;
  value: number;
  errors: Errors;
  onInput: (value: number) => void;
  min?: number;
  max?: number;
  step?: number;
  hint?: string;
}

/** A number input; an empty or unparsable entry is sent as is (null) and the server's 422 says why. */
export function NumberField({ id, label, field, value, errors, onInput, min, max, step, hint }: NumberFieldProps) {
  return (
    <Field id={id} label={label} field={field} errors={errors} hint={hint}>
      {(a11y) => (
        <input
          {...a11y}
          type="number"
          inputMode="decimal"
          value={Number.isFinite(value) ? value : ''}
          min={min}
          max={max}
          step={step ?? 'any'}
          onInput={(e) => onInput((e.currentTarget as HTMLInputElement).valueAsNumber)}
        />
      )}
    </Field>
  );
}

interface SelectFieldProps {
  id: string;
  label: string;
  field: string;
  value: string;
  options: readonly string[] | readonly [string, string][];
  errors: Errors;
  onChange: (value: string) => void;
  disabled?: boolean;
}

export function SelectField({ id, label, field, value, options, errors, onChange, disabled }: SelectFieldProps) {
  const pairs = options.map((o) => (Array.isArray(o) ? o : [o, o])) as [string, string][];
  if (value && !pairs.some(([v]) => v === value)) pairs.unshift([value, value]); // keep a reused value visible
  return (
    <Field id={id} label={label} field={field} errors={errors}>
      {(a11y) => (
        <select {...a11y} value={value} disabled={disabled} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value)}>
          {pairs.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** A labelled checkbox (the label wraps it, so clicking the text toggles it). */
export function CheckField({ label, checked, onChange }: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label class="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)} />
      {label}
    </label>
  );
}
