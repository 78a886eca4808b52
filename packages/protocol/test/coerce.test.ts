import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coerce, providedFields, Txt2ImgRequest } from '../src/index.ts';
import { needVector, readVector } from './helpers/spec.ts';

const skip = needVector('api_models.json');

describe('Txt2ImgRequest against vectors/api_models.json', { skip }, () => {
  if (skip) return;
  const models = readVector('api_models.json');

  test('field names, order and defaults equal the pydantic model', () => {
    const props = Txt2ImgRequest.properties as Record<string, { default?: unknown; anyOf?: unknown[]; 'x-sdapi-extension'?: boolean }>;
    const expected = models.txt2img_request as { name: string; default: unknown; allow_none: boolean }[];
    assert.deepEqual(
      Object.keys(props).filter((k) => !props[k]['x-sdapi-extension']), // our additions (typed ControlNet units) are marked
      expected.map((f) => f.name),
    );
    for (const f of expected) {
      assert.deepEqual(props[f.name].default, f.default, `default of ${f.name}`);
      assert.equal(Boolean(props[f.name].anyOf), f.allow_none, `nullability of ${f.name}`);
    }
  });

  test('an empty request yields vars() of the empty pydantic request, in order', () => {
    const out = coerce(Txt2ImgRequest, {});
    assert.ok(out.ok);
    assert.deepEqual(Object.entries(out.value as object), Object.entries(models.txt2img_vars_of_empty_request));
  });

  const examples = models.txt2img_coercion_examples as { payload: Record<string, unknown>; parsed?: Record<string, unknown>; validation_error?: unknown[] }[];
  for (const ex of examples) {
    test(`coercion ${JSON.stringify(ex.payload)}`, () => {
      const out = coerce<Record<string, unknown>>(Txt2ImgRequest, ex.payload);
      if (ex.validation_error) {
        assert.deepEqual(out, { ok: false, errors: ex.validation_error });
        return;
      }
      assert.ok(out.ok, JSON.stringify(out));
      for (const [key, value] of Object.entries(ex.parsed ?? {})) {
        if (value === '<not a field: ignored>') assert.equal(key in out.value, false, `${key} is dropped`);
        else assert.deepEqual(out.value[key], value, key);
      }
    });
  }
});

describe('pydantic v1 rules not covered by the vector', () => {
  const run = (payload: unknown) => coerce<Record<string, unknown>>(Txt2ImgRequest, payload, ['body']);

  test('several errors come back in field order with body locations', () => {
    const out = run({ restore_faces: 'maybe', steps: 'many', styles: ['a', []] });
    assert.deepEqual(out, {
      ok: false,
      errors: [
        { loc: ['body', 'styles', 1], msg: 'str type expected', type: 'type_error.str' },
        { loc: ['body', 'steps'], msg: 'value is not a valid integer', type: 'type_error.integer' },
        { loc: ['body', 'restore_faces'], msg: 'value could not be parsed to a boolean', type: 'type_error.bool' },
      ],
    });
  });

  test('null is refused by the five non-nullable fields', () => {
    const out = run({ sampler_index: null, send_images: null });
    assert.equal(out.ok, false);
    if (!out.ok)
      assert.deepEqual(
        out.errors.map((e) => [e.loc[1], e.type]),
        [
          ['sampler_index', 'type_error.none.not_allowed'],
          ['send_images', 'type_error.none.not_allowed'],
        ],
      );
  });

  test('Python literal forms: int strings with whitespace/underscores, float words, bool words', () => {
    const out = run({ steps: ' 1_0 ', cfg_scale: ' 1e1 ', seed: '-3', tiling: 'OFF', width: 64.99, prompt: true });
    assert.ok(out.ok);
    assert.deepEqual(
      [out.value.steps, out.value.cfg_scale, out.value.seed, out.value.tiling, out.value.width, out.value.prompt],
      [10, 10, -3, false, 64, 'True'],
    );
    assert.equal(run({ cfg_scale: '7,5' }).ok, false);
    assert.equal(run({ steps: Number.POSITIVE_INFINITY }).ok, false);
  });

  test('dict fields accept Python dict() conversions of pair lists and refuse other lists', () => {
    const out = run({ override_settings: [['CLIP_stop_at_last_layers', 2]] });
    assert.ok(out.ok);
    assert.deepEqual(out.value.override_settings, { CLIP_stop_at_last_layers: 2 });
    assert.equal(run({ override_settings: [1, 2] }).ok, false);
  });

  test('a body that is not an object is "not a valid dict"; providedFields lists what was sent', () => {
    assert.deepEqual(run([1, 2]), { ok: false, errors: [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }] });
    const out = run({ steps: 3, prompt: 'x', bogus: 1 });
    assert.ok(out.ok);
    assert.deepEqual([...(providedFields(out.value as object) ?? [])], ['prompt', 'steps']);
  });

  test('defaults are copies, not shared objects', () => {
    const a = run({});
    const b = run({});
    assert.ok(a.ok && b.ok);
    (a.value.script_args as unknown[]).push(1);
    assert.deepEqual(b.value.script_args, []);
  });
});
