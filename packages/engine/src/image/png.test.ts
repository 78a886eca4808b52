import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { decodePng, encodePng, readTextChunks } from './png.ts';

/** Chunk types in file order, with each chunk's CRC checked against node's own crc32. */
function chunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let pos = 8; pos < png.length; ) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    assert.equal(png.readUInt32BE(pos + 8 + length), crc32(png.subarray(pos + 4, pos + 8 + length)), `CRC of ${type}`);
    types.push(type);
    pos += 12 + length;
  }
  return types;
}

function gradient(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i >> 3)) & 0xff;
  return rgb;
}

test('encodePng → decodePng round-trips RGB pixels exactly', () => {
  const rgb = gradient(7, 5);
  const out = decodePng(encodePng(rgb, 7, 5));
  assert.equal(out.width, 7);
  assert.equal(out.height, 5);
  assert.deepEqual(out.rgb, rgb);
  assert.equal(out.hasAlpha, false);
  assert.equal(out.rgba[3], 255);
  assert.equal(out.rgba[4], rgb[3]);
  assert.deepEqual(out.text, {});
});

test('Latin-1 infotext is a tEXt chunk right after IHDR', () => {
  const infotext = 'a cat, (best:1.2)\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 1, Size: 4x3, café';
  const png = encodePng(gradient(4, 3), 4, 3, { parameters: infotext });
  assert.deepEqual(chunkTypes(png), ['IHDR', 'tEXt', 'IDAT', 'IEND']);
  assert.equal(png.indexOf(Buffer.from('parameters\0', 'latin1')), 8 + 25 + 8);
  assert.deepEqual(decodePng(png).text, { parameters: infotext });
});

test('non-Latin-1 infotext becomes an uncompressed iTXt chunk and survives the round trip', () => {
  const infotext = '猫, 🐈 ünïcode\nSteps: 20, Sampler: Euler a';
  const png = encodePng(gradient(2, 2), 2, 2, { parameters: infotext, Software: 'sdapi' });
  assert.deepEqual(chunkTypes(png), ['IHDR', 'iTXt', 'tEXt', 'IDAT', 'IEND']);
  const itxt = png.indexOf(Buffer.from('iTXt', 'latin1'));
  assert.deepEqual([...png.subarray(itxt + 4 + 10, itxt + 4 + 15)], [0, 0, 0, 0, 0]); // flag, method, lang, tkey
  assert.deepEqual(decodePng(png).text, { parameters: infotext, Software: 'sdapi' });
});

test('readTextChunks reads zTXt and compressed iTXt written by other tools', () => {
  const base = encodePng(gradient(1, 1), 1, 1);
  const mk = (type: string, data: Buffer) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ztxt = mk('zTXt', Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('zipped ü', 'latin1'))]));
  const itxt = mk('iTXt', Buffer.concat([Buffer.from('parameters\0\x01\0en\0Params\0', 'latin1'), deflateSync(Buffer.from('日本 text', 'utf8'))]));
  const png = Buffer.concat([base.subarray(0, 33), ztxt, itxt, base.subarray(33)]);
  assert.deepEqual(readTextChunks(png), { Comment: 'zipped ü', parameters: '日本 text' });
  assert.deepEqual(decodePng(png).rgb, gradient(1, 1));
});

test('encodePng rejects a pixel buffer of the wrong size, naming the sizes', () => {
  assert.throws(() => encodePng(new Uint8Array(10), 2, 2), /10 bytes, expected 2x2x3 = 12/);
});

test('decodePng rejects a file that is not a PNG', () => {
  assert.throws(() => decodePng(Buffer.from('GIF89a....')), /not a PNG/);
});
