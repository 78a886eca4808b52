/** The generate form: prompts, sampling, size with presets, seed with dice/reuse, batch, styles, hires fix. */
import type { ScriptInfo } from '@sdapi/client';
import type { ComponentChildren } from 'preact';
import { DEFAULT_FORM, type FormState, fieldSetter, SIZE_PRESETS } from '../form.ts';
import { CheckField, type Errors, Field, NumberField, SelectField } from './fields.tsx';
import { LoraPicker } from './lora-picker.tsx';

export interface Lists {
  samplers: string[];
  schedulers: string[];
  styles: string[];
  hrUpscalers: string[];
  /** GET /upscalers names (Extras). */
  upscalers: string[];
  /** GET /loras aliases (the names `<lora:…>` tags use). */
  loras: string[];
  /** ControlNet preprocessors and models (`/controlnet/module_list`, `/controlnet/model_list`). */
  cnModules: string[];
  cnModels: string[];
  /** The X/Y/Z plot's axis labels (`/sdapi/v1/script-info`, txt2img). */
  xyzAxes: string[];
  /** Every script the server describes (`/sdapi/v1/script-info`), for the Script menu. */
  scripts: ScriptInfo[];
}

interface Props {
  form: FormState;
  setForm: (update: (f: FormState) => FormState) => void;
  lists: Lists;
  errors: Errors;
  lastSeed: number | null;
  onGenerate: () => void;
  submitting: boolean;
  /** img2img inputs, between the prompts and the sampling fields. */
  children?: ComponentChildren;
  label: string;
}

export function GenerateForm({ form, setForm, lists, errors, lastSeed, onGenerate, submitting, children, label }: Props) {
  const set = fieldSetter(setForm);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      onGenerate();
    }
  };
  const toggleStyle = (name: string, on: boolean) => setForm((f) => ({ ...f, styles: on ? [...f.styles, name] : f.styles.filter((s) => s !== name) }));
  return (
    <form
      class="generate-form"
      noValidate
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onGenerate();
      }}
      onKeyDown={onKeyDown}
    >
      <Field id="prompt" label="Prompt" field="prompt" errors={errors} hint="Ctrl+Enter generates">
        {(a11y) => <textarea {...a11y} rows={3} value={form.prompt} onInput={(e) => set('prompt')((e.currentTarget as HTMLTextAreaElement).value)} />}
      </Field>
      <Field id="negative_prompt" label="Negative prompt" field="negative_prompt" errors={errors}>
        {(a11y) => (
          <textarea {...a11y} rows={2} value={form.negative_prompt} onInput={(e) => set('negative_prompt')((e.currentTarget as HTMLTextAreaElement).value)} />
        )}
      </Field>
      <fieldset class="styles" aria-describedby={errors.styles ? 'styles-error' : undefined}>
        <legend>Styles</legend>
        {lists.styles.length === 0 && <small class="hint">No styles: add some to styles.csv in the data folder.</small>}
        {lists.styles.map((name) => (
          <label key={name} class="check">
            <input type="checkbox" checked={form.styles.includes(name)} onChange={(e) => toggleStyle(name, (e.currentTarget as HTMLInputElement).checked)} />
            {name}
          </label>
        ))}
        {errors.styles && (
          <p id="styles-error" class="field-error" data-field="styles">
            {errors.styles}
          </p>
        )}
      </fieldset>
      <LoraPicker
        loras={lists.loras}
        errors={errors}
        onAdd={(tag) => setForm((f) => ({ ...f, prompt: f.prompt.trim() === '' ? tag : `${f.prompt.trimEnd()} ${tag}` }))}
      />
      {children}
      <div class="row">
        <SelectField
          id="sampler"
          label="Sampler"
          field="sampler_name"
          value={form.sampler_name}
          options={lists.samplers}
          errors={errors}
          onChange={set('sampler_name')}
        />
        <SelectField
          id="scheduler"
          label="Schedule type"
          field="scheduler"
          value={form.scheduler}
          options={lists.schedulers}
          errors={errors}
          onChange={set('scheduler')}
        />
      </div>
      <div class="row">
        <NumberField id="steps" label="Steps" field="steps" value={form.steps} min={1} max={150} step={1} errors={errors} onInput={set('steps')} />
        <NumberField
          id="cfg_scale"
          label="CFG scale"
          field="cfg_scale"
          value={form.cfg_scale}
          min={1}
          max={30}
          step={0.5}
          errors={errors}
          onInput={set('cfg_scale')}
        />
      </div>
      <div class="row">
        <NumberField id="width" label="Width" field="width" value={form.width} min={64} max={2048} step={8} errors={errors} onInput={set('width')} />
        <NumberField id="height" label="Height" field="height" value={form.height} min={64} max={2048} step={8} errors={errors} onInput={set('height')} />
        <Field id="size_preset" label="Size preset" errors={errors}>
          {(a11y) => (
            <select
              {...a11y}
              value=""
              onChange={(e) => {
                const preset = SIZE_PRESETS[Number((e.currentTarget as HTMLSelectElement).value)];
                if (preset) setForm((f) => ({ ...f, width: preset[1], height: preset[2] }));
                (e.currentTarget as HTMLSelectElement).value = '';
              }}
            >
              <option value="">Choose…</option>
              {SIZE_PRESETS.map(([name], i) => (
                <option key={name} value={i}>
                  {name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div class="row seed-row">
        <NumberField id="seed" label="Seed" field="seed" value={form.seed} step={1} errors={errors} onInput={set('seed')} hint="-1 picks a random seed" />
        <div class="seed-buttons">
          <button type="button" title="A random seed on each run (-1)" onClick={() => set('seed')(-1)}>
            <span aria-hidden="true">⚄</span>&nbsp;Random
          </button>
          <button
            type="button"
            aria-label="Reuse the last seed"
            title={lastSeed === null ? 'No image yet' : `Reuse seed ${lastSeed}`}
            disabled={lastSeed === null}
            onClick={() => lastSeed !== null && set('seed')(lastSeed)}
          >
            <span aria-hidden="true">↺</span>&nbsp;Last
          </button>
        </div>
      </div>
      <div class="row">
        <NumberField id="n_iter" label="Batch count" field="n_iter" value={form.n_iter} min={1} max={100} step={1} errors={errors} onInput={set('n_iter')} />
        <NumberField
          id="batch_size"
          label="Batch size"
          field="batch_size"
          value={form.batch_size}
          min={1}
          max={8}
          step={1}
          errors={errors}
          onInput={set('batch_size')}
        />
      </div>
      <CheckField label="Hires. fix" checked={form.enable_hr} onChange={set('enable_hr')} />
      {form.enable_hr && (
        <div class="row">
          <SelectField
            id="hr_upscaler"
            label="Upscaler"
            field="hr_upscaler"
            value={form.hr_upscaler}
            options={lists.hrUpscalers}
            errors={errors}
            onChange={set('hr_upscaler')}
          />
          <NumberField
            id="hr_scale"
            label="Upscale by"
            field="hr_scale"
            value={form.hr_scale}
            min={1}
            max={4}
            step={0.05}
            errors={errors}
            onInput={set('hr_scale')}
          />
          <NumberField
            id="hr_denoising_strength"
            label="Hires denoising"
            field="denoising_strength"
            value={form.hr_denoising_strength}
            min={0}
            max={1}
            step={0.01}
            errors={errors}
            onInput={set('hr_denoising_strength')}
          />
        </div>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={submitting}>
          {submitting ? 'Queuing…' : 'Generate'}
        </button>
        <button type="button" onClick={() => setForm(() => ({ ...DEFAULT_FORM, sampler_name: form.sampler_name, scheduler: form.scheduler }))}>
          Reset form
        </button>
      </div>
    </form>
  );
}
