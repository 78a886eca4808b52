/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors, Apache-2.0 spec):
 * 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}}`, then raw
 * little-endian tensor bytes. The reader is lazy: it parses and validates the header up front and reads a
 * tensor's bytes only when asked, so a 7 GB checkpoint costs nothing until its weights are bound.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { CheckpointError } from '../errors.ts';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
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
      throw new CheckpointError(path, 'pickled checkpoints (.ckpt/.pt/.pth/.bin) can run arbitrary code and are never loaded; convert it to .safetensors first (for example with the "safetensors" convert script or A1111\'s model converter extension)');
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

  /** An integer tensor as bigint-free numbers (I64 values must fit in 2^53). */
  readIntegers(name: string): number[] {
    const info = this.info(name);
    const bytes = this.readBytes(name);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length / DTYPE_BYTES[info.dtype];
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      switch (info.dtype) {
        case 'I64': out.push(Number(view.getBigInt64(i * 8, true))); break;
        case 'I32': out.push(view.getInt32(i * 4, true)); break;
        case 'I16': out.push(view.getInt16(i * 2, true)); break;
        case 'I8': out.push(view.getInt8(i)); break;
        case 'U8': case 'BOOL': out.push(view.getUint8(i)); break;
        default: throw new CheckpointError(this.path, `'${name}' is ${info.dtype}, not an integer tensor`);
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
  const lengthBytes = Buffer.alloc(8);
  readSync(fd, lengthBytes, 0, 8, 0);
  const headerLength = Number(lengthBytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > fileSize) {
    throw new CheckpointError(path, `header length ${headerLength} does not fit a file of ${fileSize} bytes (truncated, or not a safetensors file)`);
  }
  const headerBytes = Buffer.alloc(headerLength);
  readSync(fd, headerBytes, 0, headerLength, 8);
  return { header: headerBytes.toString('utf8'), dataOffset: 8 + headerLength };
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
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (value ?? {}) as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(path, name, value, dataSize));
  }
  return { tensors, metadata };
}

function parseEntry(path: string, name: string, value: unknown, dataSize: number): TensorInfo {
  const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const dtype = entry?.dtype as DType;
  if (!(typeof dtype === 'string' && dtype in DTYPE_BYTES)) {
    throw new CheckpointError(path, `tensor '${name}' has unsupported dtype ${JSON.stringify(entry?.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new CheckpointError(path, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  }
  const offsets = entry.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw new CheckpointError(path, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[dtype];
  if (end - begin !== expected) {
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

export interface TensorToWrite {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Writes a safetensors file, tensors in the given order, streaming so multi-GB files need no large buffer. */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, TensorToWrite> | Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
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
