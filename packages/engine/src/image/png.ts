/**
 * PNG encode/decode with text chunks, the container A1111 uses for its infotext (`parameters`).
 * Pixels go through pngjs; text chunks are spliced in after IHDR the way Pillow's `PngInfo.add_text` writes
 * them: `tEXt` when the value is Latin-1, otherwise an uncompressed `iTXt` (PNG spec §11.3.4).
 */
import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface DecodedPng {
  width: number;
  height: number;
  /** 8-bit RGBA, row-major; opaque alpha when the file has none. */
  rgba: Uint8Array;
  /** 8-bit RGB, row-major (alpha dropped). */
  rgb: Uint8Array;
  /** Whether the file carries an alpha channel (colour type 4/6 or tRNS). */
  hasAlpha: boolean;
  /** tEXt, zTXt and iTXt chunks by keyword; a later chunk with the same keyword wins (as in Pillow). */
  text: Record<string, string>;
}

/**
 * Encodes 8-bit RGB pixels as an RGB PNG with optional text chunks.
 * @example encodePng(rgb, 512, 512, { parameters: infotext })
 */
export function encodePng(rgb: Uint8Array, width: number, height: number, text: Record<string, string> = {}): Buffer {
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`encodePng: rgb has ${rgb.length} bytes, expected ${width}x${height}x3 = ${width * height * 3}`);
  }
  const data = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  return withText(PNG.sync.write({ width, height, data }, { colorType: 2, inputColorType: 2, inputHasAlpha: false }), text);
}

/** Splices text chunks in after IHDR. */
function withText(png: Buffer, text: Record<string, string>): Buffer {
  const chunks = Object.entries(text).map(([key, value]) => textChunk(key, value));
  if (chunks.length === 0) return png;
  const afterIhdr = SIGNATURE.length + 8 + 13 + 4; // IHDR: length + type, 13 data bytes, CRC
  return Buffer.concat([png.subarray(0, afterIhdr), ...chunks, png.subarray(afterIhdr)]);
}

/** Encodes 8-bit RGBA pixels as an RGBA PNG (lossless, alpha kept) with optional text chunks (as encodePng). */
export function encodePngRgba(rgba: Uint8Array, width: number, height: number, text: Record<string, string> = {}): Buffer {
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`encodePngRgba: rgba has ${rgba.length} bytes, expected ${width}x${height}x4 = ${width * height * 4}`);
  }
  const data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return withText(PNG.sync.write({ width, height, data }, { colorType: 6, inputColorType: 6, inputHasAlpha: true }), text);
}

/** Decodes a PNG into RGBA/RGB pixels plus its text chunks. Throws on a malformed file. */
export function decodePng(buf: Uint8Array): DecodedPng {
  const buffer = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const text = readTextChunks(buffer);
  const png = PNG.sync.read(buffer);
  const rgba = new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  const rgb = new Uint8Array(png.width * png.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { width: png.width, height: png.height, rgba, rgb, hasAlpha: png.alpha, text };
}

/** Reads tEXt/zTXt/iTXt chunks without decoding pixels (cheap; for png-info style lookups). */
export function readTextChunks(buffer: Buffer): Record<string, string> {
  if (buffer.length < 8 || !buffer.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file (bad signature)');
  const text: Record<string, string> = {};
  for (let pos = 8; pos + 12 <= buffer.length; ) {
    const length = buffer.readUInt32BE(pos);
    const type = buffer.toString('latin1', pos + 4, pos + 8);
    const data = buffer.subarray(pos + 8, pos + 8 + length);
    if (type === 'IEND') break;
    const entry = parseTextChunk(type, data);
    if (entry) text[entry[0]] = entry[1];
    pos += 12 + length;
  }
  return text;
}

function parseTextChunk(type: string, data: Buffer): [string, string] | null {
  const nul = data.indexOf(0);
  if (nul < 0 || (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt')) return null;
  const key = data.toString('latin1', 0, nul);
  if (type === 'tEXt') return [key, data.toString('latin1', nul + 1)];
  if (type === 'zTXt') return [key, inflateSync(data.subarray(nul + 2)).toString('latin1')];
  // iTXt: keyword \0 compressed-flag method language \0 translated-keyword \0 UTF-8 text
  const compressed = data[nul + 1] === 1;
  const langEnd = data.indexOf(0, nul + 3);
  const tkeyEnd = data.indexOf(0, langEnd + 1);
  if (langEnd < 0 || tkeyEnd < 0) return null;
  const body = data.subarray(tkeyEnd + 1);
  return [key, (compressed ? inflateSync(body) : body).toString('utf8')];
}

/** A tEXt chunk for Latin-1 text, else an uncompressed iTXt chunk with empty language tags (Pillow's choice). */
function textChunk(key: string, value: string): Buffer {
  const keyBytes = Buffer.from(key, 'latin1');
  if (isLatin1(value)) return chunk('tEXt', Buffer.concat([keyBytes, Buffer.from([0]), Buffer.from(value, 'latin1')]));
  const header = Buffer.from([0, 0, 0, 0, 0]); // \0, flag 0, method 0, empty language \0, empty translated key \0
  return chunk('iTXt', Buffer.concat([keyBytes, header, Buffer.from(value, 'utf8')]));
}

function isLatin1(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC) over chunk type + data, as the PNG spec requires. */
function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
