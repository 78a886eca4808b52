/**
 * Malformed-safetensors corpus (issue 13 §7): every broken file is refused with a CheckpointError that names the
 * file and the reason, every strict prefix of a valid file is refused, and random byte damage never escapes as
 * anything but a CheckpointError (no RangeError, no hang, no giant allocation).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../errors.ts';
import { duplicateTopLevelKey, SafetensorsFile, safetensorsProblem, writeSafetensors } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'sdapi-st-corpus-'));

/** A file with a raw header text (padded by nothing) and `dataBytes` zero bytes after it. */
function raw(header: string | Buffer, dataBytes = 0, declaredLength?: bigint): Buffer {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLength ?? BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const json = (o: unknown) => JSON.stringify(o);

/** [label, bytes, the reason the message must give]. */
const CORPUS: Array<[string, Buffer, RegExp]> = [
  ['empty file', Buffer.alloc(0), /0 bytes, too short/],
  ['7 bytes', Buffer.alloc(7, 1), /7 bytes, too short/],
  ['header length past the end', raw('{}', 0, 1000n), /header length 1000 does not fit a file of 10 bytes/],
  ['header length over the cap', raw('{}', 0, 1n << 40n), /over the 104857600-byte cap/],
  ['header length 0', raw('', 0), /too short for a JSON object/],
  ['header not starting with {', raw(' {}'), /does not start with "\{"/],
  ['header not UTF-8', raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
  ['header not JSON', raw('{"a": {"dtype": "F32"'), /not valid JSON/],
  ['header a JSON array', raw('[1]'), /does not start with/],
  ['header JSON but not an object', raw('{"a":1}'), /tensor 'a' is 1, not an object/],
  ['unknown dtype', raw(json({ a: t('F8', [1], [0, 1]) }), 1), /unsupported dtype "F8"/],
  ['dtype from the prototype', raw(json({ a: t('constructor', [1], [0, 1]) }), 1), /unsupported dtype "constructor"/],
  ['negative dimension', raw(json({ a: t('F32', [-1], [0, 4]) }), 4), /invalid shape \[-1\]/],
  ['fractional dimension', raw(json({ a: t('F32', [1.5], [0, 6]) }), 6), /invalid shape/],
  ['string dimension', raw(json({ a: t('F32', ['2'], [0, 8]) }), 8), /invalid shape/],
  ['shape product past 2^53', raw(json({ a: t('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 8]) }), 8), /spans 8 bytes but F32\[/],
  ['one offset', raw(json({ a: t('F32', [1], [0]) }), 4), /invalid data_offsets \[0\]/],
  ['negative offset', raw(json({ a: t('F32', [1], [-4, 0]) }), 4), /invalid data_offsets/],
  ['reversed offsets', raw(json({ a: t('F32', [1], [4, 0]) }), 4), /end before they begin/],
  ['dtype × shape ≠ byte length', raw(json({ a: t('F16', [3], [0, 8]) }), 8), /spans 8 bytes but F16\[3\] needs 6/],
  ['offsets past the data', raw(json({ a: t('F32', [4], [0, 16]) }), 8), /ends at byte 16 of a 8-byte data section: the file is truncated/],
  ['overlapping tensors', raw(json({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }), 12), /'a' \[0, 8\) and 'b' \[4, 12\) overlap/],
  ['duplicate names', raw(`{"a":${json(t('F32', [1], [0, 4]))},"a":${json(t('F32', [1], [4, 8]))}}`, 8), /names tensor "a" twice/],
  ['metadata not strings', raw(json({ __metadata__: { steps: 5 } })), /__metadata__ must be an object of strings/],
  // A pickle (protocol 2) and a PyTorch zip checkpoint renamed to .safetensors.
  [
    'pickle renamed',
    Buffer.concat([Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x05]), Buffer.from('cos\nsystem\n')]),
    /is a Python pickle \(protocol 2\), not safetensors: it is never loaded/,
  ],
  ['zip renamed', Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1'), Buffer.alloc(40)]), /is a zip archive/],
];

for (const [label, bytes, reason] of CORPUS) {
  test(`malformed: ${label}`, () => {
    const path = join(dir, `${label.replace(/[^a-z0-9]+/gi, '_')}.safetensors`);
    writeFileSync(path, bytes);
    assert.throws(
      () => SafetensorsFile.open(path),
      (e: unknown) => e instanceof CheckpointError && e.message.startsWith(`${path}: `) && reason.test(e.message),
    );
    assert.match(safetensorsProblem(path) ?? '', reason, 'safetensorsProblem gives the same reason');
  });
}

test('every strict prefix of a valid file is refused with a CheckpointError; the whole file opens', () => {
  const path = join(dir, 'whole.safetensors');
  writeSafetensors(
    path,
    { a: { dtype: 'F32', shape: [3], data: new Uint8Array(12).fill(1) }, b: { dtype: 'F16', shape: [2], data: new Uint8Array(4) } },
    { k: 'v' },
  );
  const whole = readFileSync(path);
  const cut = join(dir, 'prefix.safetensors');
  for (let n = 0; n < whole.length; n++) {
    writeFileSync(cut, whole.subarray(0, n));
    assert.throws(
      () => SafetensorsFile.open(cut),
      (e: unknown) => e instanceof CheckpointError && e.message.includes(cut),
      `prefix of ${n} bytes`,
    );
  }
  assert.equal(safetensorsProblem(path), null);
  SafetensorsFile.open(path).close();
});

test('random byte damage gives a sound file or a CheckpointError, never another exception (2000 mutants)', () => {
  const path = join(dir, 'seed.safetensors');
  writeSafetensors(path, { w: { dtype: 'F32', shape: [2, 2], data: new Uint8Array(16) }, i: { dtype: 'I64', shape: [1], data: new Uint8Array(8) } });
  const seed = readFileSync(path);
  let state = 12345;
  const rand = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const mutant = join(dir, 'mutant.safetensors');
  let refused = 0;
  for (let k = 0; k < 2000; k++) {
    const bytes = Buffer.from(seed);
    for (let f = 1 + rand(3); f > 0; f--) bytes[rand(Math.min(bytes.length, 8 + rand(120)))] = rand(256);
    writeFileSync(mutant, bytes);
    try {
      const file = SafetensorsFile.open(mutant);
      for (const name of file.keys()) file.readBytes(name); // every accepted tensor is inside the file
      file.close();
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `mutant ${k}: ${(e as Error).stack}`);
      refused++;
    }
  }
  console.log(`# ${refused} of 2000 mutants refused, the rest are sound files`);
  assert.ok(refused > 500, 'the damage mostly lands in the header');
});

test('duplicateTopLevelKey looks at the top level only and understands escapes', () => {
  assert.equal(duplicateTopLevelKey('{"a":{"x":1,"x":2},"b":1}'), null);
  assert.equal(duplicateTopLevelKey('{"a\\"b":1,"a\\"b":2}'), 'a"b');
  assert.equal(duplicateTopLevelKey('{"a":[{"a":1}],"b":"a"}'), null);
  assert.equal(duplicateTopLevelKey('{"a":1, "b":2, "a":3}'), 'a');
});
