/** A drop zone that also takes a paste and has a file button (so keyboard users can pick a file too). */
import { useRef, useState } from 'preact/hooks';
import { imageFiles } from '../images.ts';

interface Props {
  id: string;
  label: string;
  accept: string;
  /** Called once per file: with `multiple`, for each file dropped, pasted or chosen; else for the first. */
  onFile: (file: File) => void;
  describedBy?: string;
  multiple?: boolean;
}

export function ImageDrop({ id, label, accept, onFile, describedBy, multiple = false }: Props) {
  const take = (files: File[]) => {
    for (const file of multiple ? files : files.slice(0, 1)) onFile(file);
  };
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
        take(imageFiles(e.dataTransfer));
      }}
      onPaste={(e) => {
        take(imageFiles(e.clipboardData));
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
        multiple={multiple}
        aria-describedby={describedBy}
        onChange={(e) => {
          take(Array.from((e.currentTarget as HTMLInputElement).files ?? []));
          if (input.current) input.current.value = '';
        }}
      />
    </div>
  );
}
