/** PNG info: read the generation parameters of a dropped PNG (ours or A1111's) and send them to the form. */
import { useState } from 'preact/hooks';
import { errorText, sd } from '../api.ts';
import { readAsDataUrl } from '../images.ts';
import { ImageDrop } from './image-drop.tsx';

interface Props {
  onSend: (parameters: Record<string, unknown>) => void;
}

export function PngInfo({ onSend }: Props) {
  const [result, setResult] = useState<{ info: string; parameters: Record<string, unknown>; items: Record<string, unknown>; src: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const read = async (file: File) => {
    setError(null);
    try {
      const src = await readAsDataUrl(file);
      const res = await sd.pngInfo({ image: src });
      setResult({ ...res, src });
    } catch (e) {
      setResult(null);
      setError(errorText(e));
    }
  };
  return (
    <section class="png-info" aria-label="PNG info">
      <ImageDrop id="png_file" label="Choose a PNG" accept="image/png,image/*" onFile={read} describedBy={error ? 'png-error' : undefined} />
      {error && (
        <p id="png-error" class="field-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <div class="png-result">
          <img src={result.src} alt="The PNG that was read" class="png-thumb" />
          {result.info ? (
            <>
              <h3>Parameters</h3>
              <pre class="infotext" data-testid="png-infotext">
                {result.info}
              </pre>
              <button type="button" class="primary" onClick={() => onSend(result.parameters)}>
                Send to txt2img
              </button>
            </>
          ) : (
            <p>This image carries no generation parameters.</p>
          )}
          {Object.keys(result.items).length > 0 && (
            <details>
              <summary>Other fields</summary>
              <pre>{JSON.stringify(result.items, null, 2)}</pre>
            </details>
          )}
        </div>
      )}
    </section>
  );
}
