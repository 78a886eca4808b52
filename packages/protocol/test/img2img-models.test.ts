/** Img2ImgRequest, PNG info and the start-up lists against A1111's pydantic models (vector api_models.json). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  coerce,
  FaceRestorerItem,
  HypernetworkItem,
  Img2ImgRequest,
  Img2ImgResponse,
  LatentUpscalerModeItem,
  PNGInfoRequest,
  PNGInfoResponse,
  RealesrganItem,
  SDVaeItem,
  UpscalerItem,
} from '../src/index.ts';
import { needVector, readVector } from './helpers/spec.ts';

type Field = { name: string; required: boolean; allow_none: boolean; default: unknown };
type Prop = { default?: unknown; anyOf?: { type?: string }[] };
const skip = needVector('api_models.json');

const SCHEMAS: Record<string, { properties: object; required?: string[] }> = {
  img2img_request: Img2ImgRequest,
  ImageToImageResponse: Img2ImgResponse,
  PNGInfoRequest,
  PNGInfoResponse,
  UpscalerItem,
  LatentUpscalerModeItem,
  SDVaeItem,
  HypernetworkItem,
  FaceRestorerItem,
  RealesrganItem,
};

describe('img2img, png-info and list models against vectors/api_models.json', { skip }, () => {
  if (skip) return;
  const models = readVector<Record<string, unknown>>('api_models.json');
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    test(`${name}: field names, order, required, nullability and defaults`, () => {
      const props = schema.properties as Record<string, Prop>;
      const expected = models[name] as Field[];
      assert.deepEqual(
        Object.keys(props).filter((k) => !(props[k] as { 'x-sdapi-extension'?: boolean })['x-sdapi-extension']), // our marked additions
        expected.map((f) => f.name),
        'fields in order',
      );
      const required = new Set(schema.required ?? []);
      for (const f of expected) {
        const nullable = props[f.name].anyOf?.some((b) => b.type === 'null') ?? false;
        // Response/list models mark optional fields by nullability; requests also by absence from `required`.
        assert.equal(nullable, f.allow_none, `nullability of ${f.name}`);
        if (name === 'img2img_request' || name === 'PNGInfoRequest') assert.equal(required.has(f.name), f.required, `required ${f.name}`);
        if (!f.required && name === 'img2img_request') assert.deepEqual(props[f.name].default, f.default, `default of ${f.name}`);
      }
    });
  }

  test('an empty img2img request yields vars() of the empty pydantic request, in order', () => {
    const out = coerce(Img2ImgRequest, {});
    assert.ok(out.ok);
    assert.deepEqual(Object.entries(out.value as object), Object.entries(models.img2img_vars_of_empty_request as object));
  });

  test('png-info needs its image; denoising_strength is not nullable in img2img', () => {
    const missing = coerce(PNGInfoRequest, {});
    assert.equal(missing.ok, false);
    assert.deepEqual(!missing.ok && missing.errors[0].loc, ['image']);
    const nulled = coerce(Img2ImgRequest, { denoising_strength: null });
    assert.equal(nulled.ok, false);
  });
});
