/**
 * Schema-driven fuzzing from the server's own `/openapi.json` (issue 13 point 1), with fast-check.
 *
 * For every documented operation it builds requests that are valid-shaped (fast-check arbitraries derived from
 * the request schema: types, enums, ranges, required fields) and malformed (a field replaced by a hostile value:
 * wrong types, nulls, huge/negative/non-finite numbers and their strings, deep nesting, long odd Unicode incl. lone
 * surrogates, bad base64 and data URLs, images whose header lies, prototype keys, unknown fields; whole bodies of
 * the wrong type; raw bodies that are not JSON; random path parameters and query strings), plus unknown paths and
 * methods. Each answer must be: not a 5xx (except 501, and 503 with `Retry-After`), not a hang (per-request
 * timeout), and match the documented schema (the operation's response schema for its status; an error body
 * shape for 4xx). `runFuzz` sends the cases one at a time and checks that the server still answers `/health`.
 *
 * Used by test/fuzz.test.ts (1,000 cases) and scripts/fuzz.ts (`npm run fuzz`, ≥ 10,000 cases).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import sharp from 'sharp';

type Schema = Record<string, unknown>;
type Doc = { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Schema> } };
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Schema;
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

/** One request to send. */
export interface FuzzCase {
  /** `METHOD /path/pattern` of the operation (or `unknown`). */
  op: string;
  kind: 'valid' | 'mutated' | 'wrong-body' | 'raw' | 'unknown-route';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface FuzzFailure {
  case: FuzzCase;
  status: number | 'hang' | 'error';
  why: string;
  response?: string;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  byOp: Record<string, number>;
  failures: FuzzFailure[];
  /** Health checks that failed after a batch (the server stopped answering). */
  healthFailures: number;
  ms: number;
}

// ─── values ──────────────────────────────────────────────────────────────────────────────────────────────────

function nested(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** A PNG signature + IHDR claiming w×h and nothing else. */
export function lyingPng(w: number, h: number): string {
  const b = Buffer.alloc(33);
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').copy(b);
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b[24] = 8;
  b[25] = 6;
  return b.toString('base64');
}

/** A real 8×8 PNG (so some image fields carry something decodable). */
export const TINY_PNG = (
  await sharp({ create: { width: 8, height: 8, channels: 3, background: '#7f6f5f' } })
    .png()
    .toBuffer()
).toString('base64');

const oddStrings = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u200b\ufeff',
    '(((((((((((((((((((((',
    '[[[[[[[[:::]]]]]]]]',
    '<lora:../../../etc/passwd:1>',
    '<lora:\u0000:NaN>',
    'BREAK BREAK AND AND ::: [a|b|c:d:1e308]',
    '{"__proto__":{"polluted":1}}',
    '../../../../etc/passwd',
    '..%2f..%2fetc%2fpasswd',
    'C:\\Windows\\win.ini',
    '%00',
    '$' + '{jndi:ldap://x}', // log4shell-style text, built so it is not read as a template
    'a'.repeat(5000),
    '🦄'.repeat(2000),
    'é'.repeat(3000),
  ),
);

const numberStrings = fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x10', '1_000', ' 5 ', '', 'null', 'true', '٣', '５');
const hugeNumbers = fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -1, 0, 0.5, -0.000001, 1e-320, 123456789012);

const badImages = fc.constantFrom(
  'data:image/png;base64,!!!!',
  'data:image/png,iVBORw0KGgo',
  'data:;base64,',
  'data:image/png;base64,',
  'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=',
  'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
  'iVBORw0KGgo',
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAAC',
  '/9j/4AAQSkZJRgABAQ',
  'R0lGODlh',
  'UklGRiQAAABXRUJQVlA4',
  '====',
  'A',
  lyingPng(30000, 30000),
  lyingPng(0, 0),
  lyingPng(4294967295, 1),
  `data:image/png;base64,${lyingPng(20000, 20000)}`,
  TINY_PNG,
  `data:image/png;base64,${TINY_PNG}`,
  'file:///etc/passwd',
);

const HOSTILE_DEEP = [nested(5_000, 'array'), nested(2_000, 'object'), nested(64, 'array')];

/** Values no schema field should accept (or should survive when it does). */
export const hostile: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: hugeNumbers },
  { weight: 2, arbitrary: numberStrings },
  { weight: 3, arbitrary: oddStrings },
  { weight: 2, arbitrary: badImages },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_DEEP) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom({ __proto__: { polluted: true } }, JSON.parse('{"__proto__":{"polluted":true}}'), {
      constructor: { prototype: { polluted: true } },
    }),
  },
  { weight: 1, arbitrary: fc.array(badImages, { maxLength: 3 }) },
);

const unknownFields = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '')),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

// ─── schema → arbitrary ──────────────────────────────────────────────────────────────────────────────────────

function deref(schema: Schema | undefined, doc: Doc): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
    const name = (s.$ref as string).split('/').pop() ?? '';
    s = doc.components?.schemas?.[name] ?? {};
  }
  return s;
}

/** Numbers near what a server expects most of the time, the schema's edges sometimes. */
function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof s.minimum === 'number' ? s.minimum : undefined;
  const max = typeof s.maximum === 'number' ? s.maximum : undefined;
  const lo = min ?? -2;
  const hi = max ?? 96;
  const edges = [min, max, 0, 1, -1].filter((v): v is number => v !== undefined && (min === undefined || v >= min) && (max === undefined || v <= max));
  const core = integer
    ? fc.integer({ min: Math.ceil(Math.max(lo, -1e6)), max: Math.floor(Math.min(hi, 1e6)) })
    : fc.double({ min: Math.max(lo, -1e6), max: Math.min(hi, 1e6), noNaN: true, noDefaultInfinity: true });
  return edges.length ? fc.oneof({ weight: 4, arbitrary: core }, { weight: 1, arbitrary: fc.constantFrom(...edges) }) : core;
}

/** A valid-shaped value for `schema` (what a well-behaved client could send). */
export function validValue(schema: Schema | undefined, doc: Doc, depth = 0): fc.Arbitrary<unknown> {
  const s = deref(schema, doc);
  if (depth > 6) return fc.constant(null);
  if (Array.isArray(s.enum) && s.enum.length) return fc.constantFrom(...s.enum);
  if ('const' in s) return fc.constant(s.const);
  const union = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(union) && union.length) return fc.oneof(...union.map((u) => validValue(u, doc, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length) return validValue(s.allOf[0] as Schema, doc, depth + 1);
  const type = Array.isArray(s.type) ? (s.type as string[]) : s.type ? [s.type as string] : [];
  if (type.length > 1) return fc.oneof(...type.map((t) => validValue({ ...s, type: t }, doc, depth + 1)));
  switch (type[0]) {
    case 'string': {
      const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
      const maxLength = typeof s.maxLength === 'number' ? Math.min(s.maxLength, 40) : 40;
      return fc.oneof({ weight: 5, arbitrary: fc.string({ minLength, maxLength: Math.max(minLength, maxLength) }) }, { weight: 1, arbitrary: oddStrings });
    }
    case 'integer':
      return numberArb(s, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = typeof s.minItems === 'number' ? s.minItems : 0;
      const maxLength = Math.max(minLength, Math.min(typeof s.maxItems === 'number' ? s.maxItems : 3, 3));
      return fc.array(validValue(s.items as Schema, doc, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArb(s, doc, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Per-property arbitraries that replace the schema's for valid-shaped values (set by `requestArb`). */
let fieldOverrides: Record<string, fc.Arbitrary<unknown>> = {};

function objectArb(s: Schema, doc: Doc, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const keys = Object.keys(props);
  if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of keys) model[k] = fieldOverrides[k] ?? validValue(props[k], doc, depth + 1);
  // Overridden fields are always sent (else the server's defaults would stand in for them).
  return fc.record(model, { requiredKeys: keys.filter((k) => required.has(k) || k in fieldOverrides) }) as fc.Arbitrary<Record<string, unknown>>;
}

/** A valid-shaped object with 1–3 of its fields (or new ones) replaced by hostile values. */
function mutatedBody(schema: Schema, doc: Doc): fc.Arbitrary<unknown> {
  const s = deref(schema, doc);
  const keys = Object.keys((s.properties ?? {}) as Schema);
  const field = keys.length
    ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) })
    : fc.string({ maxLength: 10 });
  return fc
    .tuple(validValue(s, doc), fc.array(fc.tuple(field, hostile), { minLength: 1, maxLength: 3 }), fc.option(unknownFields, { nil: undefined }))
    .map(([base, changes, extra]) => {
      const body: Record<string, unknown> = base && typeof base === 'object' && !Array.isArray(base) ? { ...(base as object) } : {};
      for (const [k, v] of changes) Object.defineProperty(body, k, { value: v, enumerable: true, writable: true, configurable: true });
      if (extra) for (const [k, v] of Object.entries(extra)) Object.defineProperty(body, k, { value: v, enumerable: true, writable: true, configurable: true });
      return body;
    });
}

/** Bodies that are not JSON at all, or not the JSON anyone expects. */
const rawBodies: fc.Arbitrary<{ body: string; type?: string }> = fc.oneof(
  fc.record({ body: fc.string({ unit: 'binary', maxLength: 200 }), type: fc.constantFrom('application/json', 'text/plain', undefined) }),
  fc.constantFrom(
    { body: '{', type: 'application/json' },
    { body: '{"prompt": "x",', type: 'application/json' },
    { body: '\ufeff{"prompt":"x"}', type: 'application/json' },
    { body: '{"width": NaN, "height": Infinity}', type: 'application/json' },
    { body: '{"steps": 1e999}', type: 'application/json' },
    { body: '{"a":1,"a":2}', type: 'application/json' },
    { body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, type: 'application/json' },
    { body: `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`, type: 'application/json' },
    { body: 'prompt=x&steps=1', type: 'application/x-www-form-urlencoded' },
    { body: '--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--b--', type: 'multipart/form-data; boundary=b' },
    { body: '{"prompt":"x"}', type: 'application/json; charset=utf-16' },
    { body: '\u0000\u0000\u0000', type: 'application/octet-stream' },
    { body: '"just a string"', type: 'application/json' },
    { body: 'null', type: 'application/json' },
    { body: '[]', type: 'application/json' },
    { body: '12345678901234567890123456789', type: 'application/json' },
  ),
);

const pathParam = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '..',
      '../..',
      '%2e%2e%2f',
      '..%252f',
      '%00',
      'a%00b',
      '..\\..\\',
      '/etc/passwd',
      'C:',
      '-1',
      '0',
      '99999999999999999999',
      'NaN',
      'x'.repeat(2000),
      '🦄',
      '%ff%fe',
      '%',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 100 }).map(String) },
);

const encode = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return encodeURIComponent(v.replace(/[\ud800-\udfff]/g, '?'));
  }
};

/** Query strings: the documented parameters (valid or hostile) plus random extra ones. */
function queryArb(params: Parameter[], doc: Doc): fc.Arbitrary<string> {
  const documented = params.filter((p) => p.in === 'query');
  const one = (p: Parameter) =>
    fc.oneof(validValue(p.schema, doc), hostile).map((v) => `${encode(p.name)}=${encode(typeof v === 'string' ? v : safeStringify(v))}`);
  const extra = fc.array(
    fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 })).map(([k, v]) => `${encode(k)}=${encode(v)}`),
    { maxLength: 3 },
  );
  const raw = fc.constantFrom('', '?', '&&&', 'a[b]=1', 'a[__proto__][x]=1', '%', '%zz', 'x=%ff%fe', `q=${'a'.repeat(5000)}`);
  return fc
    .tuple(
      fc.subarray(documented).chain((ps) => (ps.length ? fc.tuple(...ps.map(one)) : fc.constant([] as string[]))),
      extra,
      fc.option(raw, { nil: undefined }),
    )
    .map(([a, b, r]) => [...a, ...b, ...(r ? [r] : [])].join('&'));
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch {
    return '"unserialisable"';
  }
}

/** The arbitrary of requests for one operation. */
function operationArb(method: string, pattern: string, op: Operation, doc: Doc): fc.Arbitrary<FuzzCase> {
  const params = op.parameters ?? [];
  const pathNames = [...pattern.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  const path = fc.tuple(...pathNames.map(() => pathParam), queryArb(params, doc)).map((parts) => {
    const query = parts.pop() as string;
    let p = pattern;
    for (const [i, name] of pathNames.entries()) p = p.replace(`{${name}}`, encode(parts[i] as string));
    return query ? `${p}?${query}` : p;
  });
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const name = `${method.toUpperCase()} ${pattern}`;
  const json = (kind: FuzzCase['kind'], body: fc.Arbitrary<unknown>) =>
    fc.tuple(path, body).map(
      ([p, b]): FuzzCase => ({
        op: name,
        kind,
        method: method.toUpperCase(),
        path: p,
        headers: { 'content-type': 'application/json' },
        body: safeStringify(b),
      }),
    );
  const raw = fc
    .tuple(path, rawBodies)
    .map(
      ([p, r]): FuzzCase => ({ op: name, kind: 'raw', method: method.toUpperCase(), path: p, headers: r.type ? { 'content-type': r.type } : {}, body: r.body }),
    );
  if (!bodySchema) {
    const bare = path.map((p): FuzzCase => ({ op: name, kind: 'valid', method: method.toUpperCase(), path: p, headers: {} }));
    return method === 'get' ? bare : fc.oneof({ weight: 3, arbitrary: bare }, { weight: 1, arbitrary: raw });
  }
  return fc.oneof(
    { weight: 3, arbitrary: json('valid', validValue(bodySchema, doc)) },
    { weight: 4, arbitrary: json('mutated', mutatedBody(bodySchema, doc)) },
    { weight: 1, arbitrary: json('wrong-body', hostile) },
    { weight: 1, arbitrary: raw },
  );
}

const unknownRoute: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    fc.oneof(
      fc.constantFrom(
        '/sdapi/v1/txt2img',
        '/sdapi/v1/options',
        '/sdapi/v2/jobs',
        '/file=/etc/passwd',
        '/sdapi/v1/../../etc/passwd',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/assets/..%2f..%2fpackage.json',
        '//',
        '/sdapi/v1/',
        '/internal/ping',
        '/sdapi/v3/x',
      ),
      fc.webPath(),
    ),
  )
  .map(([method, path]) => ({ op: 'unknown', kind: 'unknown-route', method, path: path.startsWith('/') ? path : `/${path}`, headers: {} }));

/** Every documented operation's arbitrary, plus unknown routes; `skip` removes operations (e.g. streams). */
export function requestArb(
  doc: Doc,
  skip: (method: string, path: string) => boolean = () => false,
  overrides: Record<string, fc.Arbitrary<unknown>> = {},
): fc.Arbitrary<FuzzCase> {
  fieldOverrides = overrides;
  const ops: fc.Arbitrary<FuzzCase>[] = [];
  for (const [pattern, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method) || skip(method.toUpperCase(), pattern)) continue;
      // Operations with a body have more to get wrong: they are drawn three times as often.
      ops.push(...Array(op.requestBody ? 3 : 1).fill(operationArb(method, pattern, op, doc)));
    }
  }
  return fc.oneof({ weight: 20, arbitrary: fc.oneof(...ops) }, { weight: 1, arbitrary: unknownRoute });
}

/**
 * Overrides for the broad runs: names the server knows half of the time (else nearly every valid-shaped job would
 * stop at "unknown sampler/type" and the code behind it would never be fuzzed), and sizes the fake draws quickly.
 */
export const PLAUSIBLE_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  type: fc.oneof(fc.constantFrom('txt2img', 'img2img', 'extra-single-image', 'extra-batch-images'), fc.string({ maxLength: 12 })),
  sampler_name: fc.oneof(fc.constantFrom('Euler a', 'DPM++ 2M', 'DDIM', null), fc.string({ maxLength: 12 })),
  scheduler: fc.oneof(fc.constantFrom('Automatic', 'Karras', null), fc.string({ maxLength: 12 })),
  upscaler_1: fc.oneof(fc.constantFrom('None', 'Lanczos', 'Nearest'), fc.string({ maxLength: 12 })),
  width: fc.oneof(fc.constantFrom(8, 32, 64, 128), fc.integer({ min: -10, max: 300 })),
  height: fc.oneof(fc.constantFrom(8, 32, 64, 128), fc.integer({ min: -10, max: 300 })),
  steps: fc.integer({ min: 0, max: 10 }),
  image: fc.oneof(fc.constant(TINY_PNG), badImages),
  init_images: fc.oneof(fc.constant([TINY_PNG]), fc.array(badImages, { maxLength: 2 })),
  params: fc.record({
    prompt: fc.string({ maxLength: 30 }),
    width: fc.constantFrom(32, 64),
    height: fc.constant(64),
    steps: fc.integer({ min: 1, max: 4 }),
    image: fc.constant(TINY_PNG),
    init_images: fc.constant([TINY_PNG]),
  }),
  response_format: fc.oneof(fc.constantFrom('b64_json', 'url'), fc.string({ maxLength: 8 })),
  preview: fc.oneof(fc.constantFrom(false, true, 2), fc.integer({ min: -3, max: 5 })),
  webhook: fc.oneof(fc.constant(null), fc.record({ url: fc.oneof(fc.webUrl(), fc.string()) })),
  id: fc.oneof(fc.constant(null), fc.uuid(), fc.string({ maxLength: 20 })),
};

// ─── checking answers ────────────────────────────────────────────────────────────────────────────────────────

/** The error bodies this API documents (spec §1.5): FastAPI's, A1111's, and OpenAI's on /v1/*. */
const ERROR_BODY: Schema = {
  anyOf: [
    {
      type: 'object',
      required: ['detail'],
      properties: {
        detail: {
          anyOf: [
            { type: 'string' },
            {
              type: 'array',
              items: {
                type: 'object',
                required: ['loc', 'msg', 'type'],
                properties: { loc: { type: 'array' }, msg: { type: 'string' }, type: { type: 'string' } },
              },
            },
          ],
        },
      },
    },
    {
      type: 'object',
      required: ['error', 'detail', 'body', 'errors'],
      properties: { error: { type: 'string' }, detail: { type: 'string' }, body: { type: 'string' }, errors: { type: 'string' } },
    },
    { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } } },
  ],
};

function inlineRefs(value: unknown, doc: Doc, depth = 0): unknown {
  if (depth > 40 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => inlineRefs(v, doc, depth + 1));
  const s = value as Schema;
  if (typeof s.$ref === 'string') return inlineRefs(deref(s, doc), doc, depth + 1);
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inlineRefs(v, doc, depth + 1)]));
}

/** Validators per operation and status, compiled once. */
export class ResponseChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  private readonly cache = new Map<string, ValidateFunction | null>();
  private readonly error: ValidateFunction;

  constructor(private readonly doc: Doc) {
    this.error = this.ajv.compile(ERROR_BODY);
  }

  private validator(op: string, status: number): ValidateFunction | null | undefined {
    const key = `${op} ${status}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const [method, pattern] = op.split(' ');
    const responses = this.doc.paths[pattern]?.[method.toLowerCase()]?.responses;
    if (!responses) return undefined;
    const documented = responses[String(status)];
    if (!documented) return undefined;
    const schema = documented.content?.['application/json']?.schema;
    const compiled = schema ? this.ajv.compile(inlineRefs(schema, this.doc) as Schema) : null;
    this.cache.set(key, compiled);
    return compiled;
  }

  /** Why the answer breaks the contract, or null when it keeps it. */
  check(c: FuzzCase, status: number, headers: Headers, text: string): string | null {
    if (status >= 500 && status !== 501 && !(status === 503 && headers.get('retry-after'))) return `server error ${status}`;
    const type = headers.get('content-type') ?? '';
    if (status === 304 || status === 204 || c.method === 'HEAD') return null;
    const json = type.startsWith('application/json');
    if (status >= 400) {
      if (!json) return `error ${status} is ${type || 'untyped'}, not JSON`;
      const body = parse(text);
      if (body === undefined) return `error ${status} body is not JSON`;
      return this.error(body) ? null : `error ${status} body is not an API error shape`;
    }
    if (c.op === 'unknown') return null; // the allow-listed page routes and /health
    const validate = this.validator(c.op, status);
    if (validate === undefined) return `status ${status} is not documented for ${c.op}`;
    if (validate === null || !json) return null; // documented without a JSON schema (images, streams, HTML)
    const body = parse(text);
    if (body === undefined) return `${status} body is not JSON`;
    if (!validate(body)) return `${status} body does not match the documented schema: ${this.ajv.errorsText(validate.errors)}`;
    return null;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ─── running ─────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * The limits the fuzz runs use (npm test and `npm run fuzz`): small, so the fake generator's valid-shaped work stays
 * tiny (the limits themselves are part of the contract). FUZZ_BODY_LIMIT is the server's bodyLimit for the runs.
 */
export const FUZZ_LIMITS = {
  maxWidth: 256,
  maxHeight: 256,
  maxPixels: 128 * 128,
  maxSteps: 8,
  maxBatch: 4,
  maxPromptLength: 10_000,
  maxImagePixels: 1024 * 1024,
};
export const FUZZ_BODY_LIMIT = 8 * 1024 * 1024;

export interface FuzzOptions {
  base: string;
  numRuns: number;
  seed: number;
  /** Per-request timeout in ms (a hang is a failure). */
  timeoutMs?: number;
  headers?: Record<string, string>;
  skip?: (method: string, path: string) => boolean;
  /** Progress line every N cases (scripts). */
  onProgress?: (done: number, report: FuzzReport) => void;
  /** Arbitrary of cases instead of the whole document (e.g. only the generation routes). */
  only?: (method: string, path: string) => boolean;
  /** Requests in flight at once (default 1: one after the other, so a failure is reproducible from the seed). */
  concurrency?: number;
  /** Valid-shaped values for these body fields (e.g. sizes a real engine makes quickly); hostile values still hit them. */
  fieldOverrides?: Record<string, fc.Arbitrary<unknown>>;
}

export async function fetchOpenApi(base: string, headers: Record<string, string> = {}): Promise<Doc> {
  const res = await fetch(`${base}/openapi.json`, { headers });
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return (await res.json()) as Doc;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const doc = await fetchOpenApi(options.base, options.headers);
  const skip = (m: string, p: string) => (options.skip?.(m, p) ?? false) || (options.only ? !options.only(m, p) : false);
  const cases = fc.sample(requestArb(doc, skip, options.fieldOverrides), { seed: options.seed, numRuns: options.numRuns });
  const checker = new ResponseChecker(doc);
  const report: FuzzReport = { seed: options.seed, cases: 0, byStatus: {}, byKind: {}, byOp: {}, failures: [], healthFailures: 0, ms: 0 };
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) await one(cases[next++]);
  };
  const one = async (c: FuzzCase) => {
    const outcome = await send(options.base, c, options.timeoutMs ?? 15_000, options.headers ?? {});
    report.cases++;
    const statusKey = String(outcome.status);
    report.byStatus[statusKey] = (report.byStatus[statusKey] ?? 0) + 1;
    report.byKind[c.kind] = (report.byKind[c.kind] ?? 0) + 1;
    report.byOp[c.op] = (report.byOp[c.op] ?? 0) + 1;
    const why = typeof outcome.status === 'number' ? checker.check(c, outcome.status, outcome.headers as Headers, outcome.text) : outcome.text;
    // FUZZ_DEBUG=1: print why valid-shaped requests did not succeed (to tune fieldOverrides).
    if (process.env.FUZZ_DEBUG && c.kind === 'valid' && outcome.status !== 200) console.log(`debug ${c.op} ${outcome.status} ${outcome.text.slice(0, 300)}`);
    if (why) report.failures.push({ case: shorten(c), status: outcome.status, why, response: outcome.text.slice(0, 300) });
    if (report.cases % 100 === 0) {
      if (!(await healthy(options.base))) report.healthFailures++;
      options.onProgress?.(report.cases, report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  if (!(await healthy(options.base))) report.healthFailures++;
  report.ms = Date.now() - started;
  return report;
}

async function send(base: string, c: FuzzCase, timeoutMs: number, extra: Record<string, string>) {
  try {
    const res = await fetch(base + c.path, {
      method: c.method,
      headers: { ...c.headers, ...extra },
      body: c.method === 'GET' || c.method === 'HEAD' ? undefined : c.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Streams (SSE) never end by themselves: their headers are the answer.
    const type = res.headers.get('content-type') ?? '';
    let text = '';
    if (type.startsWith('text/event-stream')) await res.body?.cancel();
    else text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return { status: 'hang' as const, headers: null, text: `no answer within ${timeoutMs} ms` };
    return { status: 'error' as const, headers: null, text: `connection failed: ${e.message}${e.cause ? ` (${(e.cause as Error).message})` : ''}` };
  }
}

async function healthy(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function shorten(c: FuzzCase): FuzzCase {
  const cut = (s: string) => (s.length > 400 ? `${s.slice(0, 400)}…(${s.length} chars)` : s);
  return { ...c, path: cut(c.path), body: c.body === undefined ? undefined : cut(c.body) };
}

/** A summary for logs: counts by status and kind, and the first failures. */
export function formatReport(report: FuzzReport, maxFailures = 10): string {
  const lines = [
    `fuzz: seed ${report.seed}, ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s, ${report.failures.length} failures, ${report.healthFailures} failed health checks`,
    `  by status: ${Object.entries(report.byStatus)
      .sort()
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}`,
    `  by kind: ${Object.entries(report.byKind)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ')}`,
    `  operations hit: ${Object.keys(report.byOp).length}`,
  ];
  for (const f of report.failures.slice(0, maxFailures))
    lines.push(`  FAIL ${f.status} ${f.why}\n    ${f.case.method} ${f.case.path} ${f.case.body ?? ''}\n    → ${f.response}`);
  return lines.join('\n');
}
