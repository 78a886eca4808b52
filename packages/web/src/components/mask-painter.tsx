/**
 * The inpainting mask: a canvas at the init image's own resolution laid over it. Painting marks pixels white
 * (to be regenerated), erasing clears them; invert and clear act on the whole mask. The mask sent to the API is
 * black with the painted pixels white, as A1111 expects.
 */

import { useEffect, useRef, useState } from 'preact/hooks';
import type { InitImage } from '../form.ts';
import { CheckField } from './fields.tsx';

export interface MaskHandle {
  /** The mask as a PNG data URL, or null when nothing is painted. */
  export(): string | null;
}

interface Props {
  image: InitImage;
  handle: { current: MaskHandle | null };
}

export function MaskPainter({ image, handle }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [brush, setBrush] = useState(Math.max(4, Math.round(Math.min(image.width, image.height) / 10)));
  const [erase, setErase] = useState(false);
  const last = useRef<{ x: number; y: number } | null>(null);

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    c.width = image.width;
    c.height = image.height;
    handle.current = { export: () => exportMask(c) };
    return () => {
      handle.current = null;
    };
  }, [image, handle]);

  const point = (e: PointerEvent) => {
    const c = canvas.current as HTMLCanvasElement;
    const rect = c.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) / rect.width) * c.width, y: ((e.clientY - rect.top) / rect.height) * c.height };
  };
  const stroke = (to: { x: number; y: number }) => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const from = last.current ?? to;
    ctx.globalCompositeOperation = erase ? 'destination-out' : 'source-over';
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = brush;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    last.current = to;
  };
  const whole = (op: 'invert' | 'clear') => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    if (op === 'clear') return ctx.clearRect(0, 0, c.width, c.height);
    const pixels = ctx.getImageData(0, 0, c.width, c.height);
    for (let i = 0; i < pixels.data.length; i += 4) {
      pixels.data.set([255, 255, 255], i);
      pixels.data[i + 3] = pixels.data[i + 3] > 0 ? 0 : 255;
    }
    ctx.putImageData(pixels, 0, 0);
  };

  return (
    <div class="mask-painter">
      <div class="mask-stage" style={{ aspectRatio: `${image.width} / ${image.height}` }}>
        <img src={image.dataUrl} alt="What img2img starts from" />
        <canvas
          ref={canvas}
          aria-label="Mask: paint over the parts to regenerate"
          data-testid="mask-canvas"
          onPointerDown={(e) => {
            (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
            last.current = null;
            stroke(point(e));
          }}
          onPointerMove={(e) => {
            if (e.buttons & 1) stroke(point(e));
          }}
          onPointerUp={() => {
            last.current = null;
          }}
        />
      </div>
      <div class="row mask-tools">
        <div class="field">
          <label for="brush">Brush size: {brush}px</label>
          <input
            id="brush"
            type="range"
            min={1}
            max={Math.max(8, Math.round(Math.max(image.width, image.height) / 2))}
            value={brush}
            onInput={(e) => setBrush(Number((e.currentTarget as HTMLInputElement).value))}
          />
        </div>
        <CheckField label="Erase" checked={erase} onChange={setErase} />
        <button type="button" onClick={() => whole('invert')}>
          Invert mask
        </button>
        <button type="button" onClick={() => whole('clear')}>
          Clear mask
        </button>
      </div>
    </div>
  );
}

function exportMask(painted: HTMLCanvasElement): string | null {
  const ctx = painted.getContext('2d');
  if (!ctx) return null;
  const src = ctx.getImageData(0, 0, painted.width, painted.height);
  const out = new ImageData(painted.width, painted.height);
  let any = false;
  for (let i = 0; i < src.data.length; i += 4) {
    const v = src.data[i + 3] > 0 ? 255 : 0;
    any ||= v > 0;
    out.data.set([v, v, v, 255], i);
  }
  if (!any) return null;
  const c = document.createElement('canvas');
  c.width = painted.width;
  c.height = painted.height;
  c.getContext('2d')?.putImageData(out, 0, 0);
  return c.toDataURL('image/png');
}
