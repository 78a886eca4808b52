/** The hand-written schemas of the extras, interrogate, scripts and extensions routes against A1111's pydantic models. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ExtensionItem,
  ExtrasBatchImagesRequest,
  ExtrasBatchImagesResponse,
  ExtrasSingleImageRequest,
  ExtrasSingleImageResponse,
  FileData,
  InterrogateRequest,
  InterrogateResponse,
  MemoryResponse,
  ScriptArg,
  ScriptInfo,
  ScriptsList,
} from '../src/index.ts';
import { needVector, readVector } from './helpers/spec.ts';

type Field = { name: string; required: boolean; allow_none: boolean; default: unknown };
type Prop = { default?: unknown; anyOf?: { type?: string }[] };

const skip = needVector('api_models.json');

const SCHEMAS: Record<string, { properties: object; required?: string[] }> = {
  ExtrasSingleImageRequest,
  ExtrasBatchImagesRequest,
  ExtrasSingleImageResponse,
  ExtrasBatchImagesResponse,
  FileData,
  InterrogateRequest,
  InterrogateResponse,
  MemoryResponse,
  ScriptsList,
  ScriptArg,
  ScriptInfo,
  ExtensionItem,
};

describe('route models against vectors/api_models.json', { skip }, () => {
  if (skip) return;
  const models = readVector<Record<string, Field[]>>('api_models.json');
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    test(`${name}: field names, order, required, nullability and defaults`, () => {
      const props = schema.properties as Record<string, Prop>;
      const expected = models[name];
      assert.deepEqual(
        Object.keys(props),
        expected.map((f) => f.name),
        'fields in order',
      );
      const required = new Set(schema.required ?? []);
      for (const f of expected) {
        const nullable = props[f.name].anyOf?.some((b) => b.type === 'null') ?? false;
        assert.equal(nullable, f.allow_none, `nullability of ${f.name}`);
        assert.equal(required.has(f.name), f.required, `required ${f.name}`);
        if (!f.required) assert.deepEqual(props[f.name].default, f.default, `default of ${f.name}`);
      }
    });
  }
});
