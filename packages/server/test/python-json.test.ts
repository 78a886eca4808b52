import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPythonJsonError, parsePythonJson } from '../src/wire/python-json.ts';

/** Inputs and the text of CPython 3.10's json.JSONDecodeError for them. */
const ERRORS: [string, string][] = [
  ['', 'Expecting value: line 1 column 1 (char 0)'],
  ['{bad json', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
  ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
  ['{"a": 1 "b": 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"],
  ['{"a":1,}', 'Expecting property name enclosed in double quotes: line 1 column 8 (char 7)'],
  ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
  ['[1, 2', "Expecting ',' delimiter: line 1 column 6 (char 5)"],
  ['{"a": "b', 'Unterminated string starting at: line 1 column 7 (char 6)'],
  ['{"a": 1}x', 'Extra data: line 1 column 9 (char 8)'],
  ['{\n"a": tru}', 'Expecting value: line 2 column 6 (char 7)'],
  ['"\\x"', 'Invalid \\escape: line 1 column 2 (char 1)'],
  ['"a\tb"', 'Invalid control character at: line 1 column 3 (char 2)'],
  ['["🐈", x]', 'Expecting value: line 1 column 7 (char 6)'],
];

for (const [input, message] of ERRORS) {
  test(`json.loads(${JSON.stringify(input)}) → ${message}`, () => {
    const out = parsePythonJson(input);
    assert.equal(out.ok, false);
    if (!out.ok) assert.equal(formatPythonJsonError(out.error), message);
  });
}

test('Python-only literals parse (NaN, Infinity, -Infinity); valid JSON goes through JSON.parse', () => {
  const out = parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "\\u00fc"}');
  assert.deepEqual(out, { ok: true, value: { a: Number.NaN, b: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY], c: 'ü' } });
});
