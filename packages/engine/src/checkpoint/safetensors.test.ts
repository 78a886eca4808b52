import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../errors.ts';
import { float32Bytes, halfToFloat, SafetensorsFile, writeSafetensors } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-st-'));

test('round-trips F32, F16 and I64 tensors', () => {
  const path = join(dir, 'rt.safetensors');
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7bff]).buffer); // 1, -2, 2^-24, 65504
  const i64 = new Uint8Array(new BigInt64Array([1n, -3n]).buffer);
  writeSafetensors(path, {
    a: { dtype: 'F32', shape: [2, 2], data: float32Bytes(new Float32Array([1, 2, 3, 4.5])) },
    h: { dtype: 'F16', shape: [4], data: f16 },
    i: { dtype: 'I64', shape: [2], data: i64 },
  }, { format: 'pt' });
  const file = SafetensorsFile.open(path);
  assert.deepEqual(file.keys(), ['a', 'h', 'i']);
  assert.deepEqual([...file.readFloat32('a')], [1, 2, 3, 4.5]);
  assert.deepEqual([...file.readFloat32('h')], [1, -2, 2 ** -24, 65504]);
  assert.deepEqual(file.readIntegers('i'), [1, -3]);
  assert.equal(file.metadata.format, 'pt');
  file.close();
});

test('bf16 widens by shifting the bits', () => {
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  const path = join(dir, 'bf.safetensors');
  writeSafetensors(path, { b: { dtype: 'BF16', shape: [1], data: new Uint8Array([0x80, 0x3f]) } });
  assert.deepEqual([...SafetensorsFile.open(path).readFloat32('b')], [1]);
});

test('a truncated file names the file and says truncated', () => {
  const path = join(dir, 'cut.safetensors');
  writeSafetensors(path, { a: { dtype: 'F32', shape: [64], data: new Uint8Array(256) } });
  const whole = readFileSync(path);
  writeFileSync(path, whole.subarray(0, whole.length - 10));
  assert.throws(() => SafetensorsFile.open(path), (e: unknown) => e instanceof CheckpointError && e.message.includes(path) && /truncated/.test(e.message));
  writeFileSync(path, whole.subarray(0, 20));
  assert.throws(() => SafetensorsFile.open(path), /truncated/);
});

test('a corrupt header is refused with the reason', () => {
  const path = join(dir, 'bad.safetensors');
  const header = Buffer.from('{"a": {"dtype": "F32", "shape": [2]');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(path, Buffer.concat([len, header]));
  assert.throws(() => SafetensorsFile.open(path), /not valid JSON/);
  const wrong = Buffer.from(JSON.stringify({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }));
  len.writeBigUInt64LE(BigInt(wrong.length));
  writeFileSync(path, Buffer.concat([len, wrong, Buffer.alloc(8)]));
  assert.throws(() => SafetensorsFile.open(path), /spans 8 bytes but F32\[3\] needs 12/);
});

test('pickled checkpoints are refused before opening', () => {
  assert.throws(() => SafetensorsFile.open(join(dir, 'model.ckpt')), /never loaded; convert it to \.safetensors/);
});
