/** A drop zone that also takes a paste and has a file button (so keyboard users can pick a file too). */
import { useRef, useState } from 'preact/hooks';
import { imageFile } from '../images.ts';

interface Props {
  id: string;
  label: string;
  accept: string;
  onFile: (file: File) => void;
  describedBy?: string;
}

export function ImageDrop({ id, label, accept, onFile, describedBy }: Props) {
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: dropping and pasting are shortcuts; the file button inside is the keyboard path
    <div
      class={`drop${over ? ' over' : ''}`}
      data-testid={`${id}-drop`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const file = imageFile(e.dataTransfer);
        if (file) onFile(file);
      }}
      onPaste={(e) => {
        const file = imageFile(e.clipboardData);
        if (file) onFile(file);
      }}
    >
      <p>Drop or paste an image here, or</p>
      <label for={id} class="button">
        {label}
      </label>
      <input
        ref={input}
        id={id}
        class="visually-hidden"
        type="file"
        accept={accept}
        aria-describedby={describedBy}
        onChange={(e) => {
          const file = (e.currentTarget as HTMLInputElement).files?.[0];
          if (file) onFile(file);
          if (input.current) input.current.value = '';
        }}
      />
    </div>
  );
}
