/**
 * Oracle tests, one per vector case: extra_networks_parse.json (A1111 `extra_networks.parse_prompt(s)`),
 * styles.json (A1111 `modules/styles.py`) and clip_chunking.json (A1111 `tokenize_line`, run there with the
 * stand-in tokenizer that the file's `tokenizer` field describes, re-implemented below).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddingTokenIndex, type EmphasisMode, type PromptChunk, tokenizeLine } from '../src/text/conditioning.ts';
import { type ExtraNetworkData, parseExtraNetworkPrompts, parseExtraNetworks } from '../src/text/extra-networks.ts';
import { applyStyleTexts, extractStyleTextFromPrompt, StyleDatabase } from '../src/text/styles.ts';
import { label, needVectors, readVectors } from './text-vectors.ts';

type NetworksJson = Record<string, Array<{ items: string[]; positional?: string[]; named?: Record<string, string> }>>;
interface ExtraNetworkCase {
  prompt?: string;
  prompts?: string[];
  expected: { prompt?: string; prompts?: string[]; networks: NetworksJson };
}

/** Map → the vector's JSON shape, keeping only the fields the vector lists. */
function networksJson(networks: ExtraNetworkData, shape: NetworksJson): NetworksJson {
  const out: NetworksJson = {};
  for (const [name, list] of networks) {
    out[name] = list.map((params, i) => {
      const keys = Object.keys(shape[name]?.[i] ?? params) as Array<keyof typeof params>;
      return Object.fromEntries(keys.map((key) => [key, key === 'named' ? { ...params.named } : params[key]])) as NetworksJson[string][number];
    });
  }
  return out;
}

const extraNetworks = readVectors<ExtraNetworkCase[]>('extra_networks_parse.json', []);
test('extra_networks_parse.json has cases', { skip: needVectors('extra_networks_parse.json') }, () => assert.ok(extraNetworks.length > 0));
for (const [i, c] of extraNetworks.entries()) {
  test(`extra_networks_parse #${i} ${label(c.prompt ?? (c.prompts ?? []).join(' | '))}`, () => {
    if (c.prompts) {
      const got = parseExtraNetworkPrompts(c.prompts);
      assert.deepEqual(got.prompts, c.expected.prompts);
      assert.deepEqual(networksJson(got.networks, c.expected.networks), c.expected.networks);
    } else {
      const got = parseExtraNetworks(c.prompt ?? '');
      assert.equal(got.prompt, c.expected.prompt);
      assert.deepEqual(networksJson(got.networks, c.expected.networks), c.expected.networks);
    }
  });
}

interface StylesVectors {
  apply: Array<{ prompt: string; style_texts: string[]; expected: string }>;
  extract_style_text: Array<{ style_text: string; prompt: string; expected: { matched: boolean; prompt: string } }>;
  database: Array<{
    styles_csv: string;
    prompt: string;
    negative_prompt: string;
    styles: string[];
    expected: { prompt: string; negative_prompt: string; extract_styles_from_prompt: { styles: string[]; prompt: string; negative_prompt: string } };
  }>;
  database_style_names: string[];
}

const styles = readVectors<StylesVectors>('styles.json', { apply: [], extract_style_text: [], database: [], database_style_names: [] });
const skipStyles = needVectors('styles.json');
test('styles.json has cases', { skip: skipStyles }, () => assert.ok(styles.apply.length > 0 && styles.database.length > 0));
for (const [i, c] of styles.apply.entries()) {
  test(`styles apply #${i} ${label(c.prompt)} + ${label(c.style_texts.join(' | '))}`, () => {
    assert.equal(applyStyleTexts(c.prompt, c.style_texts), c.expected);
  });
}
for (const [i, c] of styles.extract_style_text.entries()) {
  test(`styles extract_style_text #${i} ${label(c.style_text)} from ${label(c.prompt)}`, () => {
    assert.deepEqual(extractStyleTextFromPrompt(c.style_text, c.prompt), c.expected);
  });
}
for (const [i, c] of styles.database.entries()) {
  test(`styles database #${i} ${label(c.styles.join(', '))}`, () => {
    const db = StyleDatabase.fromCsv(c.styles_csv);
    assert.deepEqual(db.names(), styles.database_style_names);
    const prompt = db.applyStylesToPrompt(c.prompt, c.styles);
    const negativePrompt = db.applyNegativeStylesToPrompt(c.negative_prompt, c.styles);
    assert.equal(prompt, c.expected.prompt);
    assert.equal(negativePrompt, c.expected.negative_prompt);
    const extracted = db.extractStylesFromPrompt(prompt, negativePrompt);
    const want = c.expected.extract_styles_from_prompt;
    assert.deepEqual(extracted, { styles: want.styles, prompt: want.prompt, negativePrompt: want.negative_prompt });
  });
}

interface ChunkingCase {
  prompt: string;
  comma_padding_backtrack: number;
  emphasis: EmphasisMode;
  embeddings: Record<string, { ids: number[]; vectors: number }>;
  expected: { token_count: number; chunks: Array<{ tokens: number[]; multipliers: number[]; fixes: Array<{ offset: number; embedding: string }> }> };
}

/** The vector file's stand-in: whitespace-separated integers are ids, any other word is 9999. */
const STAND_IN_TOKENIZER = {
  bosId: 49406,
  eosId: 49407,
  commaId: 267,
  encode: (text: string) =>
    text
      .split(/\s+/)
      .filter((word) => word !== '')
      .map((word) => (/^\d+$/.test(word) ? Number(word) : 9999)),
};

function assertChunkEqual(got: PromptChunk, want: ChunkingCase['expected']['chunks'][number], k: number): void {
  assert.deepEqual(got.tokens, want.tokens, `chunk ${k} tokens`);
  assert.equal(got.multipliers.length, want.multipliers.length, `chunk ${k} multipliers length`);
  got.multipliers.forEach((m, j) => {
    assert.ok(Math.abs(m - want.multipliers[j]) < 1e-9, `chunk ${k} multiplier ${j}: ${m} != ${want.multipliers[j]}`);
  });
  assert.deepEqual(
    got.fixes.map((fix) => ({ offset: fix.offset, embedding: fix.embedding.name })),
    want.fixes,
    `chunk ${k} fixes`,
  );
}

const chunking = readVectors<{ tokenizer: string; cases: ChunkingCase[] }>('clip_chunking.json', { tokenizer: '', cases: [] });
test('clip_chunking.json has cases', { skip: needVectors('clip_chunking.json') }, () => assert.ok(chunking.cases.length > 0));
for (const [i, c] of chunking.cases.entries()) {
  test(`clip_chunking #${i} ${label(c.prompt)} backtrack=${c.comma_padding_backtrack} emphasis=${c.emphasis}`, () => {
    const embeddings = new EmbeddingTokenIndex();
    for (const [name, e] of Object.entries(c.embeddings)) embeddings.register(e.ids, { name, vectors: e.vectors });
    const got = tokenizeLine(c.prompt, STAND_IN_TOKENIZER, { commaPaddingBacktrack: c.comma_padding_backtrack, emphasis: c.emphasis, embeddings });
    assert.equal(got.tokenCount, c.expected.token_count, 'token_count');
    assert.equal(got.chunks.length, c.expected.chunks.length, 'chunk count');
    got.chunks.forEach((chunk, k) => {
      assertChunkEqual(chunk, c.expected.chunks[k], k);
    });
  });
}
