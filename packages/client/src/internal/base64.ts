/** Base64 with the platform's atob/btoa (browsers, Deno, Bun, Workers, Node ≥ 16), UTF-8 safe. */

export function encodeBase64Utf8(text: string): string {
  return encodeBase64Bytes(new TextEncoder().encode(text));
}

/** Bytes → standard base64 with padding. Chunked: `String.fromCharCode(...big)` would overflow the stack. */
export function encodeBase64Bytes(bytes: Uint8Array): string {
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** Base64 (a `data:…,` prefix and whitespace tolerated) → bytes; a bad character throws a TypeError naming it. */
export function decodeBase64(b64: string): Uint8Array {
  const clean = b64.replace(/^data:[^,]*,/, '').replace(/\s+/g, '');
  let binary: string;
  try {
    binary = atob(clean);
  } catch {
    const bad = clean.match(/[^A-Za-z0-9+/=]/)?.[0];
    throw new TypeError(`not valid base64${bad ? ` (unexpected character ${JSON.stringify(bad)})` : ''}: ${JSON.stringify(clean.slice(0, 40))}`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
