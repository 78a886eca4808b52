/** The checkpoint in use: switching POSTs `sd_model_checkpoint` (the server loads it in the queue) with a busy bar. */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { sd } from '../api.ts';
import { type Errors, Field } from './fields.tsx';

export function ModelPicker({ onError, errors }: { onError: (error: unknown) => void; errors: Errors }) {
  const [models, setModels] = useState<string[]>([]);
  const [current, setCurrent] = useState('');
  const [loading, setLoading] = useState<string | null>(null);
  // Titles gain their hash once a file is loaded (`name [sha256:10]`): read both again after each switch.
  const refresh = useCallback(async () => {
    const [list, now] = await Promise.all([sd.sdModels.list(), sd.currentModel()]);
    setModels(list.map((m) => m.title));
    setCurrent(now ?? '');
  }, []);
  useEffect(() => {
    refresh().catch(onError);
  }, [refresh, onError]);
  const choose = async (title: string) => {
    setLoading(title);
    try {
      await sd.options.update({ sd_model_checkpoint: title });
      await refresh();
    } catch (error) {
      onError(error);
    } finally {
      setLoading(null);
    }
  };
  return (
    <div class="model-picker">
      <Field id="model" label="Model" field="sd_model_checkpoint" errors={errors}>
        {(a11y) => (
          <select {...a11y} value={loading ?? current} disabled={loading !== null} onChange={(e) => void choose((e.currentTarget as HTMLSelectElement).value)}>
            {current === '' && <option value="">(none loaded)</option>}
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        )}
      </Field>
      {loading && (
        <p class="model-loading" role="status">
          <progress aria-label="Loading the model" /> Loading {loading}…
        </p>
      )}
    </div>
  );
}
