/**
 * Pydantic v1 validation, driven by a TypeBox/JSON schema: the coercions A1111's request models apply (spec §1.8,
 * vector api_models.json `txt2img_coercion_examples`) and FastAPI's error entries (`loc`/`msg`/`type`).
 * Ints from floats are truncated, numeric and boolean strings are parsed, numbers become strings, absent fields
 * take their defaults, unknown fields are dropped, and `null` passes only where the schema allows it.
 */
import type { ValidationIssue } from './errors.ts';

type Loc = (string | number)[];
type Schema = Record<string, unknown>;

export type CoerceResult<T = unknown> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

const PROVIDED = Symbol.for('sdapi.providedFields');

/**
 * The field names a request actually carried (before defaults were filled in), attached to a coerced model.
 * A1111 needs this for the `infotext` field ("fields the client did not send") and for echoing defaults verbatim.
 */
export function providedFields(model: object): ReadonlySet<string> | undefined {
  return (model as { [PROVIDED]?: ReadonlySet<string> })[PROVIDED];
}

/** Validates and coerces `input` against `schema`; `loc` prefixes error locations (`['body']`, `['query']`). */
export function coerce<T = unknown>(schema: object, input: unknown, loc: Loc = []): CoerceResult<T> {
  const errors: ValidationIssue[] = [];
  const value = coerceValue(schema as Schema, input, loc, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: value as T };
}

const issue = (loc: Loc, msg: string, type: string): ValidationIssue => ({ loc: [...loc], msg, type });

function coerceValue(schema: Schema, v: unknown, loc: Loc, errors: ValidationIssue[]): unknown {
  const branches = schema.anyOf as Schema[] | undefined;
  if (branches) return coerceUnion(branches, v, loc, errors);
  if (v === null || v === undefined) {
    if (schema.type === 'null' || schema.type === undefined) return null;
    errors.push(issue(loc, 'none is not an allowed value', 'type_error.none.not_allowed'));
    return undefined;
  }
  const scalar = SCALARS[schema.type as string];
  if (scalar) {
    const out = scalar(v);
    if (out.error) errors.push(issue(loc, out.error[0], out.error[1]));
    return out.value;
  }
  if (schema.type === 'array') return coerceList(schema, v, loc, errors);
  if (schema.type === 'object') return coerceObject(schema, v, loc, errors);
  return v; // {} = Any
}

/** `Optional[T]` is anyOf [T, null]; other unions take the first branch that validates (pydantic v1 order). */
function coerceUnion(branches: Schema[], v: unknown, loc: Loc, errors: ValidationIssue[]): unknown {
  if (v === null || v === undefined) {
    if (branches.some((b) => b.type === 'null')) return null;
    errors.push(issue(loc, 'none is not an allowed value', 'type_error.none.not_allowed'));
    return undefined;
  }
  const candidates = branches.filter((b) => b.type !== 'null');
  const collected: ValidationIssue[] = [];
  for (const branch of candidates) {
    const branchErrors: ValidationIssue[] = [];
    const out = coerceValue(branch, v, loc, branchErrors);
    if (branchErrors.length === 0) return out;
    collected.push(...branchErrors);
  }
  errors.push(...collected);
  return undefined;
}

type ScalarOut = { value?: unknown; error?: [string, string] };

const INT_ERROR: ScalarOut = { error: ['value is not a valid integer', 'type_error.integer'] };
const FLOAT_ERROR: ScalarOut = { error: ['value is not a valid float', 'type_error.float'] };
const STR_ERROR: ScalarOut = { error: ['str type expected', 'type_error.str'] };
const BOOL_ERROR: ScalarOut = { error: ['value could not be parsed to a boolean', 'type_error.bool'] };

const SCALARS: Record<string, (v: unknown) => ScalarOut> = {
  /** `int(v)`: bools are ints, floats truncate, strings must be Python int literals. */
  integer(v) {
    if (typeof v === 'boolean') return { value: v ? 1 : 0 };
    if (typeof v === 'number') return Number.isFinite(v) ? { value: Math.trunc(v) } : INT_ERROR;
    if (typeof v === 'string' && /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(v)) return { value: Number(v.replaceAll('_', '')) };
    return INT_ERROR;
  },
  /** `float(v)`: numbers, bools and Python float literals (`"7.5"`, `" 1e3 "`, `"inf"`, `"nan"`). */
  number(v) {
    if (typeof v === 'boolean') return { value: v ? 1 : 0 };
    if (typeof v === 'number') return { value: v };
    if (typeof v === 'string') {
      const parsed = parsePythonFloat(v);
      return parsed === undefined ? FLOAT_ERROR : { value: parsed };
    }
    return FLOAT_ERROR;
  },
  /** `str` fields accept numbers (`123` → `"123"`; a bool is an int in Python, so `true` → `"True"`). */
  string(v) {
    if (typeof v === 'string') return { value: v };
    if (typeof v === 'boolean') return { value: v ? 'True' : 'False' };
    if (typeof v === 'number') return { value: String(v) };
    return STR_ERROR;
  },
  /** pydantic's BOOL_TRUE / BOOL_FALSE sets; strings compare lower-cased. */
  boolean(v) {
    if (typeof v === 'boolean') return { value: v };
    if (v === 1 || v === 0) return { value: v === 1 };
    if (typeof v !== 'string') return BOOL_ERROR;
    const s = v.toLowerCase();
    if (['1', 'on', 't', 'true', 'y', 'yes'].includes(s)) return { value: true };
    if (['0', 'off', 'f', 'false', 'n', 'no'].includes(s)) return { value: false };
    return BOOL_ERROR;
  },
  null(v) {
    return v === null ? { value: null } : { error: ['value is not none', 'type_error.none.allowed'] };
  },
};

function parsePythonFloat(text: string): number | undefined {
  const s = text.trim().replace(/(?<=\d)_(?=\d)/g, '');
  if (/^[+-]?(?:inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(s)) return Number.NaN;
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s) ? Number(s) : undefined;
}

/** Lists accept arrays only (a bare string is not a list); items are coerced with their index in `loc`. */
function coerceList(schema: Schema, v: unknown, loc: Loc, errors: ValidationIssue[]): unknown {
  if (!Array.isArray(v)) {
    errors.push(issue(loc, 'value is not a valid list', 'type_error.list'));
    return undefined;
  }
  const items = (schema.items as Schema | undefined) ?? {};
  return v.map((item, i) => coerceValue(items, item, [...loc, i], errors));
}

/** Python's `dict(v)`: an object as is, or a list of 2-item pairs (`[["k", 1]]`, `["ab"]`). */
function toDict(v: unknown): Record<string, unknown> | undefined {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  if (!Array.isArray(v)) return undefined;
  const pairs = v.map((item) => (typeof item === 'string' ? [...item] : item));
  if (!pairs.every((p) => Array.isArray(p) && p.length === 2)) return undefined;
  return Object.fromEntries(pairs.map(([k, x]) => [SCALARS.string(k).value ?? String(k), x]));
}

function coerceObject(schema: Schema, v: unknown, loc: Loc, errors: ValidationIssue[]): unknown {
  const dict = toDict(v);
  if (!dict) {
    errors.push(issue(loc, 'value is not a valid dict', 'type_error.dict'));
    return undefined;
  }
  const properties = schema.properties as Record<string, Schema> | undefined;
  if (properties && Object.keys(properties).length > 0) return coerceModel(schema, properties, dict, loc, errors);
  const valueSchema = dictValueSchema(schema);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(dict)) out[key] = coerceValue(valueSchema, value, [...loc, key], errors);
  return out;
}

function dictValueSchema(schema: Schema): Schema {
  const patterns = schema.patternProperties as Record<string, Schema> | undefined;
  if (patterns) return Object.values(patterns)[0] ?? {};
  return typeof schema.additionalProperties === 'object' ? (schema.additionalProperties as Schema) : {};
}

/** A pydantic model: fields in declaration order, defaults for absent ones, unknown keys ignored. */
function coerceModel(schema: Schema, properties: Record<string, Schema>, dict: Record<string, unknown>, loc: Loc, errors: ValidationIssue[]): unknown {
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const out: Record<string, unknown> = {};
  const provided = new Set<string>();
  for (const [key, fieldSchema] of Object.entries(properties)) {
    if (Object.hasOwn(dict, key)) {
      provided.add(key);
      out[key] = coerceValue(fieldSchema, dict[key], [...loc, key], errors);
    } else if (required.has(key)) {
      errors.push(issue([...loc, key], 'field required', 'value_error.missing'));
    } else if ('default' in fieldSchema) {
      out[key] = structuredClone(fieldSchema.default);
    }
  }
  if (schema.additionalProperties === true) {
    for (const [key, value] of Object.entries(dict)) if (!(key in properties)) out[key] = value;
  }
  Object.defineProperty(out, PROVIDED, { value: provided, enumerable: false });
  return out;
}
