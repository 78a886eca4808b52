/**
 * CLIP tokenizer oracle: the tiny-sd15 fixture's `text.input_ids` were made by the genuine openai CLIP BPE
 * (ldm FrozenCLIPEmbedder). The unit vectors below were produced by openai's `simple_tokenizer.encode`
 * (Python, `regex` module, without ftfy) on the same strings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesToUnicode, CLIP_BOS, CLIP_EOS, CLIPTokenizer, packTokens } from '../src/text/clip-tokenizer.ts';
import { needFixture, openFixture } from './helpers/fixtures.ts';

/** Row order of every `text.*` tensor in tiny-sd15/reference.safetensors (reference.md). */
const FIXTURE_PROMPTS = [
  'a photograph of an astronaut riding a horse',
  'A cozy cabin in the woods, snowy night, highly detailed, 4k!',
  'portrait of a cat wearing a tiny hat; oil painting (by an old master)',
  '',
];

test('tiny-sd15 text.input_ids: tokenise + pack the four fixture prompts', { skip: needFixture('tiny-sd15', 'reference.safetensors') }, () => {
  const file = openFixture('tiny-sd15', 'reference.safetensors');
  const expected = file.readIntegers('text.input_ids');
  assert.deepEqual(file.info('text.input_ids').shape, [4, 77]);
  const tokenizer = CLIPTokenizer.load();
  FIXTURE_PROMPTS.forEach((prompt, row) => {
    const got = packTokens(tokenizer.encode(prompt));
    assert.deepEqual(got, expected.slice(row * 77, row * 77 + 77), `row ${row}: ${JSON.stringify(prompt)}`);
  });
  file.close();
});

const SIMPLE_TOKENIZER_VECTORS: Array<[string, string, number[]]> = [
  [
    'contractions',
    "it's the cat's toy, we're here, I'VE, you'll, he'd, I'm, don't",
    [585, 568, 518, 2368, 568, 5988, 267, 649, 982, 763, 267, 328, 1200, 267, 592, 1342, 267, 797, 1896, 267, 328, 880, 267, 847, 713],
  ],
  [
    'numbers (one token per digit)',
    '1234567 3.14159 1,000,000 2nd 4k 8K',
    [272, 273, 274, 275, 276, 277, 278, 274, 269, 272, 275, 272, 276, 280, 272, 267, 271, 271, 271, 267, 271, 271, 271, 273, 1764, 275, 330, 279, 330],
  ],
  [
    'unicode (byte-level fallback, emoji, CJK, Greek, Cyrillic)',
    'café naïve über Zürich 東京 猫 😀👍🏽 ñandú Ελληνικά русский',
    [
      15304, 1097, 35689, 563, 6522, 1516, 89, 6522, 4021, 48338, 21078, 361, 163, 234, 360, 12832, 43722, 6445, 672, 36019, 138, 113, 138, 119, 138, 119, 138,
      115, 138, 121, 138, 117, 138, 118, 138, 361, 16370, 39729, 23669, 23669, 27152, 29503, 373,
    ],
  ],
  [
    'html entities (unescaped twice)',
    '&amp; &lt;tag&gt; &amp;amp; &#39;quoted&#39; &eacute;t&eacute; &hellip; &ampx &#x1F600; &#128512; &#0; &#150;',
    [261, 283, 3640, 285, 261, 262, 27706, 262, 3459, 39694, 959, 261, 343, 7334, 7334, 39802, 1224],
  ],
  ['whitespace collapse', 'multiple   spaces\t\tand\nnewlines  ', [6470, 9006, 537, 1218, 3418]],
  [
    'prompt punctuation',
    '(masterpiece:1.2), best quality, [[ugly]], {curly} <lora:foo:0.8> a|b \\escaped',
    [
      263, 12066, 281, 272, 269, 273, 2361, 949, 3027, 267, 58, 314, 8159, 60, 34067, 346, 20795, 348, 283, 2179, 320, 281, 23435, 281, 271, 269, 279, 285, 320,
      347, 321, 315, 18707,
    ],
  ],
  ['punctuation runs', '!!!???... ---> <<>> @#$%^&*', [11194, 5195, 22641, 14518, 24588, 2988, 31, 2, 3, 4, 61, 5, 265]],
  ['unicode spaces', 'hello\u00a0world\u3000x', [3306, 1002, 343]],
];

for (const [name, text, ids] of SIMPLE_TOKENIZER_VECTORS) {
  test(`encode matches simple_tokenizer: ${name}`, () => {
    assert.deepEqual(CLIPTokenizer.load().encode(text), ids);
  });
}

test('special tokens and vocabulary layout', () => {
  const tokenizer = CLIPTokenizer.load();
  assert.equal(tokenizer.vocabSize, 49408);
  assert.equal(tokenizer.tokenId('<|startoftext|>'), CLIP_BOS);
  assert.equal(tokenizer.tokenId('<|endoftext|>'), CLIP_EOS);
  assert.equal(tokenizer.commaId, 267);
  assert.equal(tokenizer.tokenId('!'), 0); // byte vocabulary starts with the printable bytes
  assert.equal(tokenizer.tokenId('!</w>'), 256);
  assert.deepEqual(tokenizer.encode('<|startoftext|>a cat<|endoftext|>'), [CLIP_BOS, 320, 2368, CLIP_EOS]);
  assert.throws(() => tokenizer.tokenId('not-a-token</w>'), /not in the CLIP vocabulary/);
});

test('ftfy-like fixes: curly quotes, full width, ligatures, NFC, controls', () => {
  const tokenizer = CLIPTokenizer.load();
  const same = (a: string, b: string) => assert.deepEqual(tokenizer.encode(a), tokenizer.encode(b), `${a} vs ${b}`);
  same('\u201ccat\u201d \u2018dog\u2019s\u2019', "\"cat\" 'dog's'");
  same('\uff43\uff41\uff54\uff01', 'cat!');
  same('\ufb01ne \ufb02ower', 'fine flower');
  same('cafe\u0301', 'café');
  same('a\u0000b\u200bc', 'ab\u200bc');
  assert.deepEqual(tokenizer.encode('\ud800 x'), tokenizer.encode('\ufffd x'));
});

test('decode inverts encode for cleaned lower-case text', () => {
  const tokenizer = CLIPTokenizer.load();
  for (const text of ['a photograph of an astronaut riding a horse', 'café 東京 😀', "it's 4k, (1.2)"]) {
    const decoded = tokenizer.decode(tokenizer.encode(text));
    assert.equal(decoded.replace(/ /g, ''), text.replace(/ /g, ''), text);
  }
  assert.equal(tokenizer.decode([320, 2368]), 'a cat ');
  assert.throws(() => tokenizer.decode([49408]), /outside the CLIP vocabulary/);
});

test('bytesToUnicode maps the 256 bytes to 256 distinct non-space characters', () => {
  const table = bytesToUnicode();
  assert.equal(new Set(table).size, 256);
  assert.equal(table[0x41], 'A');
  assert.equal(table[0x20], '\u0120'); // space is the 33rd non-printable byte → U+0100 + 32
  assert.ok(table.every((c) => !/\s/.test(c)));
});

test('packTokens: [BOS] + ids[:75] + [EOS], padded with EOS', () => {
  assert.deepEqual(packTokens([1, 2], 6), [CLIP_BOS, 1, 2, CLIP_EOS, CLIP_EOS, CLIP_EOS]);
  const long = Array.from({ length: 100 }, (_, i) => i);
  const packed = packTokens(long);
  assert.equal(packed.length, 77);
  assert.deepEqual(packed.slice(1, 76), long.slice(0, 75));
  assert.equal(packed[76], CLIP_EOS);
});

test('load() is cached: the second call returns the same tokenizer', () => {
  assert.equal(CLIPTokenizer.load(), CLIPTokenizer.load()); // the same object: no second read of the vocabulary
});
