import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SPEC_DIR } from '../../test/helpers/fixtures.ts';
import { createInfotext, formatPyFloat, type InfotextParams, PyFloat, pyFloat, pyJsonDumps, pyRepr, pyStr, quote, RE_PARAM, unquote } from './infotext.ts';

const VECTORS = join(SPEC_DIR, 'vectors');
const skipVectors = existsSync(VECTORS) ? false : `${VECTORS} is absent (../shared is not beside this clone)`;

/**
 * JSON.parse that keeps Python's float/int distinction: number tokens with `.`/`e` become PyFloat, so `2.0`
 * in a vector stays a float (`Hires upscale: 2.0`).
 */
function parsePyTyped(text: string): unknown {
  const tagged = text.replace(/"(?:\\.|[^"\\])*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (tok) =>
    tok.startsWith('"') || !/[.eE]/.test(tok) ? tok : `{"$pyfloat":${tok}}`,
  );
  return JSON.parse(tagged, (_k, v) => (v && typeof v === 'object' && '$pyfloat' in v ? pyFloat(v.$pyfloat) : v));
}

const num = (v: unknown) => (v instanceof PyFloat ? v.value : (v as number));

/** The vector's `p` (A1111 field names) → InfotextParams. */
function toParams(p: Record<string, unknown>): InfotextParams {
  const extras = { ...(p.extra_generation_params as Record<string, unknown>) };
  for (const [k, v] of Object.entries(extras)) {
    // The vector stands in for A1111 callables with a marker string; ours are functions.
    if (typeof v === 'string' && v.startsWith('<callable returning None>')) extras[k] = () => null;
  }
  return {
    allPrompts: p.all_prompts as string[],
    allNegativePrompts: p.all_negative_prompts as string[],
    allSeeds: p.all_seeds as number[],
    allSubseeds: p.all_subseeds as number[],
    mainPrompt: p.main_prompt as string,
    mainNegativePrompt: p.main_negative_prompt as string,
    steps: p.steps as number,
    samplerName: p.sampler_name as string,
    scheduler: p.scheduler as string,
    cfgScale: num(p.cfg_scale),
    imageCfgScale: p.image_cfg_scale == null ? null : num(p.image_cfg_scale),
    width: p.width as number,
    height: p.height as number,
    batchSize: p.batch_size as number,
    restoreFaces: p.restore_faces as boolean,
    tiling: p.tiling as boolean,
    sdModelName: p.sd_model_name as string,
    sdModelHash: p.sd_model_hash as string,
    sdVaeName: p.sd_vae_name as string | null,
    sdVaeHash: p.sd_vae_hash as string | null,
    subseedStrength: num(p.subseed_strength),
    seedResizeFromW: p.seed_resize_from_w as number,
    seedResizeFromH: p.seed_resize_from_h as number,
    clipSkip: (p.clip_skip as number | undefined) ?? null,
    eta: p.eta == null ? null : num(p.eta),
    isUsingInpaintingConditioning: p.is_using_inpainting_conditioning as boolean,
    extraGenerationParams: extras,
    user: p.user as string | null,
  };
}

interface CreateCase {
  description: string;
  p: Record<string, unknown>;
  options: Record<string, unknown>;
  call: { iteration?: number; position_in_batch?: number; use_main_prompt?: boolean };
  expected: string;
}

function loadVector<T>(name: string): T {
  return parsePyTyped(readFileSync(join(VECTORS, name), 'utf8')) as T;
}

describe('createInfotext: vectors/infotext_create.json', { skip: skipVectors }, () => {
  if (skipVectors) return;
  const vec = loadVector<{ version_used: string; cases: CreateCase[] }>('infotext_create.json');
  for (const c of vec.cases) {
    test(c.description, () => {
      const options = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, v instanceof PyFloat ? v.value : v]));
      const actual = createInfotext(toParams(c.p), {
        iteration: c.call.iteration,
        positionInBatch: c.call.position_in_batch,
        useMainPrompt: c.call.use_main_prompt,
        options,
        version: vec.version_used,
      });
      assert.equal(actual, c.expected);
    });
  }
});

describe('quote/unquote: vectors/infotext_quote.json', { skip: skipVectors }, () => {
  if (skipVectors) return;
  const vec = loadVector<{
    quote: { value: unknown; expected: unknown }[];
    unquote: { text: string; expected: string }[];
    re_param: string;
  }>('infotext_quote.json');
  for (const c of vec.quote) {
    test(`quote(${JSON.stringify(c.value)})`, () => assert.equal(quote(c.value), pyStr(c.expected)));
  }
  for (const c of vec.unquote) {
    test(`unquote(${JSON.stringify(c.text)})`, () => assert.equal(unquote(c.text), c.expected));
  }
  test('RE_PARAM reads back every quoted value (the re_param pattern, Unicode \\w)', () => {
    assert.equal(RE_PARAM.source.replaceAll('[\\p{L}\\p{N}_', '[\\w').replace('[\\w]', '\\w'), vec.re_param);
    const values = vec.quote.map((c) => c.value).filter((v) => pyStr(v) !== '');
    const line = values.map((v, i) => `Key ${i}: ${quote(v)}`).join(', ');
    const parsed = [...line.matchAll(RE_PARAM)].map((m) => [m[1], unquote(m[2])]);
    assert.deepEqual(
      parsed,
      values.map((v, i) => [`Key ${i}`, pyStr(v)]),
    );
  });
});

test('formatPyFloat follows Python repr layout', () => {
  const cases: [number, string][] = [
    [7, '7.0'],
    [0.75, '0.75'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [-2.5, '-2.5'],
    [0.1 + 0.2, '0.30000000000000004'],
    [123456789.125, '123456789.125'],
    [1.5e-7, '1.5e-07'],
    [-0, '-0.0'],
    [Number.NaN, 'nan'],
    [Number.NEGATIVE_INFINITY, '-inf'],
    [2 ** 70, '1.1805916207174113e+21'],
  ];
  for (const [x, expected] of cases) assert.equal(formatPyFloat(x), expected, `repr(${x})`);
});

test('pyStr/pyRepr mirror Python for the scalar and container types used in infotexts', () => {
  assert.equal(pyStr(true), 'True');
  assert.equal(pyStr(null), 'None');
  assert.equal(pyStr(5), '5');
  assert.equal(pyStr(pyFloat(5)), '5.0');
  assert.equal(pyStr(2 ** 64), '18446744073709551616');
  assert.equal(pyRepr(['a', 1, pyFloat(2), null]), "['a', 1, 2.0, None]");
  assert.equal(pyRepr("it's"), '"it\'s"');
  assert.equal(pyRepr('a\'b"c\n\u00a0'), "'a\\'b\"c\\n\\xa0'");
  assert.equal(pyRepr({ k: false }), "{'k': False}");
});

test('pyJsonDumps writes Python json.dumps text (spaced separators, ensure_ascii, floats keep .0)', () => {
  const value = { a: pyFloat(7), b: [1, 0.5, null], c: 'ü🐈"\u007f', d: () => 1, e: true };
  assert.equal(pyJsonDumps(value), '{"a": 7.0, "b": [1, 0.5, null], "c": "\\u00fc\\ud83d\\udc08\\"\\u007f", "d": null, "e": true}');
  assert.equal(pyJsonDumps(value, { separators: [',', ':'], ensureAscii: false }), '{"a":7.0,"b":[1,0.5,null],"c":"ü🐈\\"\u007f","d":null,"e":true}');
  assert.equal(pyJsonDumps([Number.NaN, pyFloat(Number.POSITIVE_INFINITY)]), '[NaN, Infinity]');
  assert.throws(() => pyJsonDumps(Number.NaN, { allowNan: false }), /not JSON compliant/);
});
