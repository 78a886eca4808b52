import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv, parseStylesCsv, StyleDatabase } from './styles.ts';

test('parseCsv follows Python csv (excel, skipinitialspace)', () => {
  assert.deepEqual(parseCsv('a, b,"c, d"\r\n\n"x ""q"" y",,z\n'), [
    ['a', 'b', 'c, d'],
    ['x "q" y', '', 'z'],
  ]);
  assert.deepEqual(parseCsv('"multi\nline",2'), [['multi\nline', '2']]);
  assert.deepEqual(parseCsv('"ab"c,d'), [['abc', 'd']]); // text after a closing quote is kept
  assert.deepEqual(parseCsv('a"b,c'), [['a"b', 'c']]);
  assert.deepEqual(parseCsv('   \nx'), [[''], ['x']]); // a line of spaces is a row with one empty field
});

test('parseStylesCsv: BOM, old "text" column, comment rows, short rows, duplicate names', () => {
  const styles = parseStylesCsv('\ufeffname,text\nOld,"a, {prompt}"\n#hidden,x\nShort\n', 'old.csv');
  assert.deepEqual(styles, [
    { name: 'Old', prompt: 'a, {prompt}', negativePrompt: '', path: 'old.csv' },
    { name: 'Short', prompt: '', negativePrompt: '', path: 'old.csv' },
  ]);
  const db = StyleDatabase.fromCsv('name,prompt,negative_prompt\nA,one,\nB,two,\nA,three,\n');
  assert.deepEqual(db.names(), ['A', 'B']);
  assert.equal(db.applyStylesToPrompt('cat', ['A']), 'cat, three');
  assert.equal(db.applyStylesToPrompt('  cat ', ['missing']), 'cat'); // unknown style = empty style
});

test('extractStylesFromPrompt never matches a style with two {prompt} placeholders', () => {
  const db = StyleDatabase.fromCsv('name,prompt,negative_prompt\nTwice,{prompt} and {prompt},\n');
  const prompt = db.applyStylesToPrompt('cat', ['Twice']);
  assert.equal(prompt, 'cat and cat');
  assert.deepEqual(db.extractStylesFromPrompt(prompt, ''), { styles: [], prompt, negativePrompt: '' });
});
