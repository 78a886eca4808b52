/**
 * Gives JSON output Python's number types. A1111's responses are pydantic models: a float-typed field that holds 7
 * is written `7.0` (spec §1.2). This walks a value alongside its TypeBox/JSON schema and boxes the numbers of
 * `type: number` fields as PyFloat, so pyJsonDumps writes them the way Python would.
 */
import { PyFloat } from '@sdapi/engine';

type Schema = Record<string, unknown>;

export interface PyTypedOptions {
  /**
   * Fields the request carried. A float field whose Python default is an int (`x-python-default: 'int'`) keeps
   * the int when it was not sent, as pydantic leaves defaults unvalidated (`subseed_strength` echoes `0`).
   */
  provided?: ReadonlySet<string>;
}

/** `value` with the numbers of float-typed fields boxed as PyFloat; other values are returned as they are. */
export function pyTyped(schema: object | undefined, value: unknown, options: PyTypedOptions = {}): unknown {
  if (!schema || value === null || value === undefined) return value;
  const s = schema as Schema;
  const branches = s.anyOf as Schema[] | undefined;
  if (branches)
    return pyTyped(
      branches.find((b) => b.type !== 'null'),
      value,
    );
  if (s.type === 'number' && typeof value === 'number') return new PyFloat(value);
  if (s.type === 'array' && Array.isArray(value)) return value.map((v) => pyTyped(s.items as Schema, v));
  if (s.type === 'object' && typeof value === 'object' && !Array.isArray(value) && !(value instanceof PyFloat)) {
    return typedObject(s, value as Record<string, unknown>, options.provided);
  }
  return value;
}

function typedObject(s: Schema, value: Record<string, unknown>, provided?: ReadonlySet<string>): Record<string, unknown> {
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  const rest = restSchema(s);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const field = properties[key];
    const keepIntDefault = provided && !provided.has(key) && field?.['x-python-default'] === 'int';
    out[key] = keepIntDefault ? v : pyTyped(field ?? rest, v);
  }
  return out;
}

function restSchema(s: Schema): Schema | undefined {
  const patterns = s.patternProperties as Record<string, Schema> | undefined;
  if (patterns) return Object.values(patterns)[0];
  return typeof s.additionalProperties === 'object' ? (s.additionalProperties as Schema) : undefined;
}
