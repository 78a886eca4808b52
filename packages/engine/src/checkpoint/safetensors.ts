/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors, Apache-2.0 spec):
 * 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}}`, then raw
 * little-endian tensor bytes. The reader is lazy: it parses and validates the header up front and reads a
 * tensor's bytes only when asked, so a 7 GB checkpoint costs nothing until its weights are bound.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { CheckpointError } from '../errors.ts';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte range inside the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

/** Largest header we accept; real checkpoints have < 1 MB of header, 100 MB means a corrupt length. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsFile {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** File offset where the data section starts (8 + header length). */
  readonly dataOffset: number;
  readonly fileSize: number;
  private fd: number | null;

  private constructor(path: string, fd: number, fileSize: number, dataOffset: number, tensors: Map<string, TensorInfo>, metadata: Record<string, string>) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.dataOffset = dataOffset;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Opens `path` and validates its header; throws CheckpointError naming the file and the problem. */
  static open(path: string): SafetensorsFile {
    if (/\.(ckpt|pt|pth|bin)$/i.test(path)) {
      throw new CheckpointError(
        path,
        'pickled checkpoints (.ckpt/.pt/.pth/.bin) can run arbitrary code and are never loaded; convert it to .safetensors first (for example with the "safetensors" convert script or A1111\'s model converter extension)',
      );
    }
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      throw new CheckpointError(path, `cannot open file (${(error as Error).message})`, { cause: error });
    }
    try {
      const fileSize = fstatSync(fd).size;
      const { header, dataOffset } = readHeader(path, fd, fileSize);
      const { tensors, metadata } = parseHeader(path, header, fileSize - dataOffset);
      return new SafetensorsFile(path, fd, fileSize, dataOffset, tensors, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(this.path, `has no tensor named '${name}'`);
    return info;
  }

  /** Raw little-endian bytes of one tensor. */
  readBytes(name: string): Uint8Array {
    const info = this.info(name);
    const bytes = new Uint8Array(info.end - info.begin);
    if (this.fd === null) throw new CheckpointError(this.path, 'file was already closed');
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(this.fd, bytes, done, bytes.length - done, this.dataOffset + info.begin + done);
      if (n === 0) throw new CheckpointError(this.path, `unexpected end of file while reading '${name}'`);
      done += n;
    }
    return bytes;
  }

  /** A floating-point tensor converted to float32 (F16 and BF16 widen exactly). */
  readFloat32(name: string): Float32Array {
    const info = this.info(name);
    return toFloat32(this.readBytes(name), info.dtype, `${this.path}: '${name}'`);
  }

  /** An F16 tensor's IEEE binary16 bits as they are stored (little-endian, like every platform Node runs on). */
  readFloat16(name: string): Uint16Array {
    const info = this.info(name);
    if (info.dtype !== 'F16') throw new CheckpointError(this.path, `'${name}' is ${info.dtype}, not F16`);
    const bytes = this.readBytes(name); // a fresh buffer at offset 0, so 2-byte aligned
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }

  /** An integer tensor as bigint-free numbers (I64 values must fit in 2^53). */
  readIntegers(name: string): number[] {
    const info = this.info(name);
    const bytes = this.readBytes(name);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length / DTYPE_BYTES[info.dtype];
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      switch (info.dtype) {
        case 'I64':
          out.push(Number(view.getBigInt64(i * 8, true)));
          break;
        case 'I32':
          out.push(view.getInt32(i * 4, true));
          break;
        case 'I16':
          out.push(view.getInt16(i * 2, true));
          break;
        case 'I8':
          out.push(view.getInt8(i));
          break;
        case 'U8':
        case 'BOOL':
          out.push(view.getUint8(i));
          break;
        default:
          throw new CheckpointError(this.path, `'${name}' is ${info.dtype}, not an integer tensor`);
      }
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readHeader(path: string, fd: number, fileSize: number): { header: string; dataOffset: number } {
  if (fileSize < 8) throw new CheckpointError(path, `file is ${fileSize} bytes, too short to be safetensors (truncated or not safetensors)`);
  const lengthBytes = readExactly(path, fd, 8, 0);
  const headerLength = Number(lengthBytes.readBigUInt64LE(0));
  // A pickle's first 8 bytes read as an absurd length; only then is it worth naming what the file really is.
  const foreign = headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize ? foreignFormat(lengthBytes) : null;
  if (foreign)
    throw new CheckpointError(path, `is ${foreign}, not safetensors: it is never loaded (unpickling can run arbitrary code); convert it to .safetensors`);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new CheckpointError(path, `header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte cap (corrupt, or not a safetensors file)`);
  }
  if (8 + headerLength > fileSize) {
    throw new CheckpointError(path, `header length ${headerLength} does not fit a file of ${fileSize} bytes (truncated, or not a safetensors file)`);
  }
  if (headerLength < 2) throw new CheckpointError(path, `header length ${headerLength} is too short for a JSON object (corrupt, or not safetensors)`);
  const headerBytes = readExactly(path, fd, headerLength, 8);
  // The spec: the header starts with '{' (it may be padded with spaces at the end).
  if (headerBytes[0] !== 0x7b) throw new CheckpointError(path, 'header does not start with "{" (corrupt, or not a safetensors file)');
  let header: string;
  try {
    header = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch (error) {
    throw new CheckpointError(path, 'header is not valid UTF-8 (corrupt, or not a safetensors file)', { cause: error });
  }
  return { header, dataOffset: 8 + headerLength };
}

/** Reads `length` bytes at `position` (readSync may return fewer; a short file is a truncation). */
function readExactly(path: string, fd: number, length: number, position: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new CheckpointError(path, `unexpected end of file at byte ${position + done} (truncated)`);
    done += n;
  }
  return out;
}

/** Recognises the formats people rename to `.safetensors` by their first bytes (their 8 bytes would be a huge length). */
function foreignFormat(first: Buffer): string | null {
  if (first[0] === 0x80 && first[1] >= 2 && first[1] <= 5) return `a Python pickle (protocol ${first[1]})`;
  if (first.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'a zip archive (a PyTorch .ckpt/.pt pickle)';
  if (first[0] === 0x28 || first[0] === 0x7d) return 'a Python pickle (protocol 0/1)';
  return null;
}

function parseHeader(path: string, text: string, dataSize: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(path, `header is not valid JSON (${(error as Error).message}); the file is corrupt or not safetensors`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(path, 'header is not a JSON object');
  }
  // JSON.parse keeps the last of two equal keys silently; the spec forbids duplicates, so look for them.
  const duplicate = duplicateTopLevelKey(text);
  if (duplicate !== null) throw new CheckpointError(path, `header names tensor ${JSON.stringify(duplicate)} twice`);
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(path, value);
      continue;
    }
    tensors.set(name, parseEntry(path, name, value, dataSize));
  }
  checkLayout(path, tensors);
  return { tensors, metadata };
}

function parseMetadata(path: string, value: unknown): Record<string, string> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value as object).every((v) => typeof v === 'string')) {
    throw new CheckpointError(path, '__metadata__ must be an object of strings');
  }
  return value as Record<string, string>;
}

/** Tensors may not overlap (the spec also wants them contiguous; gaps are tolerated, as the Rust reader did before 0.4). */
function checkLayout(path: string, tensors: ReadonlyMap<string, TensorInfo>): void {
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      throw new CheckpointError(
        path,
        `tensors '${sorted[i - 1].name}' [${sorted[i - 1].begin}, ${sorted[i - 1].end}) and '${sorted[i].name}' [${sorted[i].begin}, ${sorted[i].end}) overlap`,
      );
    }
  }
}

/** The first top-level key that occurs twice in a JSON object text (a small scanner; nested objects are skipped). */
export function duplicateTopLevelKey(text: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return null;
}

function parseEntry(path: string, name: string, value: unknown, dataSize: number): TensorInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(path, `tensor '${name}' is ${JSON.stringify(value)}, not an object with dtype, shape and data_offsets`);
  }
  const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = entry.dtype as DType;
  if (!(typeof dtype === 'string' && Object.hasOwn(DTYPE_BYTES, dtype))) {
    throw new CheckpointError(
      path,
      `tensor '${name}' has unsupported dtype ${JSON.stringify(entry.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
    );
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(path, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  const offsets = entry.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new CheckpointError(path, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new CheckpointError(path, `tensor '${name}' has data_offsets [${begin}, ${end}] that end before they begin`);
  const expected = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    throw new CheckpointError(path, `tensor '${name}' spans ${end - begin} bytes but ${dtype}[${shape.join(', ')}] needs ${expected}`);
  }
  if (end > dataSize) {
    throw new CheckpointError(path, `tensor '${name}' ends at byte ${end} of a ${dataSize}-byte data section: the file is truncated`);
  }
  return { name, dtype, shape, begin, end };
}

/** Widens F32/F16/BF16/F64 little-endian bytes to float32. */
export function toFloat32(bytes: Uint8Array, dtype: DType, what = 'tensor'): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(bytes.length / 4);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16': {
      // Aligned (readBytes gives a fresh buffer): one table lookup per value; otherwise through the DataView.
      if (bytes.byteOffset % 2 === 0) return halvesToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2));
      const out = new Float32Array(bytes.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(bytes.length / 2);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F64': {
      const out = new Float32Array(bytes.length / 8);
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    default:
      throw new Error(`${what} is ${dtype}, not a floating-point tensor`);
  }
}

const HALF_TABLE = buildHalfTable();

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** IEEE-754 binary16 bits → number (exact). */
export function halfToFloat(bits: number): number {
  return HALF_TABLE[bits & 0xffff];
}

/** Many binary16 values → float32 (exact): a table lookup per value, no call per value. */
export function halvesToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = HALF_TABLE[bits[i]];
  return out;
}

export interface TensorToWrite {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Writes a safetensors file, tensors in the given order, streaming so multi-GB files need no large buffer. */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): void {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (headerText.length % 8)) % 8); // align the data section to 8 bytes
  const headerBytes = Buffer.from(headerText, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, lengthBytes);
    writeSync(fd, headerBytes);
    for (const [, t] of entries) writeSync(fd, t.data);
  } finally {
    closeSync(fd);
  }
}

/** float32 values as little-endian F32 bytes (shares memory on little-endian hosts). */
export function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

const problems = new Map<string, { stamp: string; problem: string | null }>();

/**
 * Why `path` cannot be opened as safetensors (the CheckpointError message, naming the file), or null when its
 * header is sound. Remembered per file size and mtime, so listing a folder re-reads only changed headers.
 */
export function safetensorsProblem(path: string): string | null {
  let stamp: string;
  try {
    const s = statSync(path);
    stamp = `${s.size}:${s.mtimeMs}`;
  } catch (error) {
    return `${path}: cannot read file (${(error as Error).message})`;
  }
  const known = problems.get(path);
  if (known?.stamp === stamp) return known.problem;
  let problem: string | null = null;
  try {
    SafetensorsFile.open(path).close();
  } catch (error) {
    problem = error instanceof Error ? error.message : String(error);
  }
  problems.set(path, { stamp, problem });
  return problem;
}
