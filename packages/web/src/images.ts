/** Files, blobs and data URLs in the browser: what the drop zones and "send to img2img" need. */
import type { InitImage } from './form.ts';

export function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(blob);
  });
}

/** Decodes an image file (checking that the browser can) and returns it as a data URL with its size. */
export async function loadImage(blob: Blob): Promise<InitImage> {
  const dataUrl = await readAsDataUrl(blob);
  const img = new Image();
  img.src = dataUrl;
  try {
    await img.decode();
  } catch {
    throw new Error(`not an image the browser can read (${blob.type || 'unknown type'})`);
  }
  return { dataUrl, width: img.naturalWidth, height: img.naturalHeight };
}

/** The image files of a drop or a paste. */
export function imageFiles(data: DataTransfer | null): File[] {
  return Array.from(data?.files ?? []).filter((file) => file.type.startsWith('image/'));
}
