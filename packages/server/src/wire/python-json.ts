/**
 * Request-body JSON with Python `json.loads` semantics (what FastAPI uses): NaN/Infinity literals are accepted and
 * syntax errors carry Python's message and character position, which FastAPI returns in its 422 body
 * (`loc: ["body", pos]`, `ctx: {msg, doc, pos, lineno, colno}`; vector http_behaviour.json "malformed JSON").
 */

export interface PythonJsonError {
  msg: string;
  /** Python `str` index (code points), as in the JSONDecodeError. */
  pos: number;
  lineno: number;
  colno: number;
}

export type PythonJsonResult = { ok: true; value: unknown } | { ok: false; error: PythonJsonError };

/** Parses like `json.loads(text)`: JSON.parse for speed, a Python-faithful scanner for errors and NaN literals. */
export function parsePythonJson(text: string): PythonJsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return new Scanner(text).parseDocument();
  }
}

/** Python's error text: `<msg>: line L column C (char P)`. */
export function formatPythonJsonError(e: PythonJsonError): string {
  return `${e.msg}: line ${e.lineno} column ${e.colno} (char ${e.pos})`;
}

class Fail {
  constructor(
    readonly msg: string,
    readonly index: number,
  ) {}
}

const WS = /[ \t\n\r]*/y;
const NUMBER = /(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/y;

/** A recursive-descent twin of CPython's json scanner (3.10 messages). */
class Scanner {
  constructor(private readonly s: string) {}

  parseDocument(): PythonJsonResult {
    try {
      const [value, end] = this.value(this.ws(0));
      const rest = this.ws(end);
      if (rest !== this.s.length) throw new Fail('Extra data', rest);
      return { ok: true, value };
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      return { ok: false, error: this.locate(e) };
    }
  }

  private locate(f: Fail): PythonJsonError {
    const before = this.s.slice(0, f.index);
    const pos = [...before].length; // UTF-16 index → code points
    const lastNl = before.lastIndexOf('\n');
    const lineno = before.split('\n').length;
    const colno = lastNl < 0 ? pos + 1 : [...before.slice(lastNl + 1)].length + 1;
    return { msg: f.msg, pos, lineno, colno };
  }

  private ws(i: number): number {
    WS.lastIndex = i;
    WS.exec(this.s);
    return WS.lastIndex;
  }

  private value(i: number): [unknown, number] {
    const c = this.s[i];
    if (c === '"') return this.string(i + 1);
    if (c === '{') return this.object(i + 1);
    if (c === '[') return this.array(i + 1);
    for (const [word, v] of LITERALS) if (this.s.startsWith(word, i)) return [v, i + word.length];
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(this.s);
    if (m) return [Number(m[0]), i + m[0].length];
    throw new Fail('Expecting value', i);
  }

  private object(i: number): [unknown, number] {
    const out: Record<string, unknown> = {};
    i = this.ws(i);
    if (this.s[i] === '}') return [out, i + 1];
    for (;;) {
      if (this.s[i] !== '"') throw new Fail('Expecting property name enclosed in double quotes', i);
      const [key, afterKey] = this.string(i + 1);
      i = this.ws(afterKey);
      if (this.s[i] !== ':') throw new Fail("Expecting ':' delimiter", i);
      const [v, afterValue] = this.value(this.ws(i + 1));
      out[key] = v;
      i = this.ws(afterValue);
      if (this.s[i] === '}') return [out, i + 1];
      if (this.s[i] !== ',') throw new Fail("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }

  private array(i: number): [unknown, number] {
    const out: unknown[] = [];
    i = this.ws(i);
    if (this.s[i] === ']') return [out, i + 1];
    for (;;) {
      const [v, after] = this.value(i);
      out.push(v);
      i = this.ws(after);
      if (this.s[i] === ']') return [out, i + 1];
      if (this.s[i] !== ',') throw new Fail("Expecting ',' delimiter", i);
      i = this.ws(i + 1);
    }
  }

  /** `i` is just past the opening quote; errors point at it (`Unterminated string starting at`). */
  private string(i: number): [string, number] {
    const start = i - 1;
    let out = '';
    for (;;) {
      if (i >= this.s.length) throw new Fail('Unterminated string starting at', start);
      const c = this.s[i];
      if (c === '"') return [out, i + 1];
      if (c < ' ') throw new Fail('Invalid control character at', i);
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const [decoded, next] = this.escape(i, start);
      out += decoded;
      i = next;
    }
  }

  private escape(i: number, start: number): [string, number] {
    const e = this.s[i + 1];
    if (e === undefined) throw new Fail('Unterminated string starting at', start);
    if (e in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[e], i + 2];
    if (e !== 'u') throw new Fail('Invalid \\escape', i);
    const hex = this.s.slice(i + 2, i + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Fail('Invalid \\uXXXX escape', i + 1);
    return [String.fromCharCode(Number.parseInt(hex, 16)), i + 6];
  }
}

const LITERALS: [string, unknown][] = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
];

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
