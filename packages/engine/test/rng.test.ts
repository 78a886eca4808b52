/**
 * Oracle test of the rng layer against ../shared/fixtures/rng/torch_cpu_randn.json (torch 1.13 CPU randn for the
 * AVX2 and scalar kernels, A1111's NV philox source, A1111 ImageRNG and slerp). Values are compared as float32 bit
 * patterns; tensors with more than 256 values are checked through their first 64 values and a SHA-256 of all bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Tensor } from '../src/tensor.ts';
import { ImageRNG, MT19937, PhiloxGenerator, type RngSource, randn, slerp, TorchGenerator } from '../src/rng/index.ts';
import { assertCloseTensor } from './helpers/assert-tensor.ts';
import { fixturePath, needFixture } from './helpers/fixtures.ts';

interface TensorRecord {
  shape: number[];
  numel: number;
  values_are_complete: boolean;
  values: number[];
  hex_first16: string[];
  sha256_f32le: string;
}
interface RandnRecord extends TensorRecord {
  source: 'torch_cpu' | 'a1111_philox_nv';
  api: string;
  cpu_kernel?: 'avx2' | 'default';
  seed: number;
  draw_index: number;
}
interface ImageRngCase {
  randn_source: RngSource;
  eta_noise_seed_delta: number;
  args: {
    shape: number[];
    seeds: number[];
    subseeds: number[] | null;
    subseed_strength: number;
    seed_resize_from_h?: number;
    seed_resize_from_w?: number;
  };
  draws: (TensorRecord & { draw_index: number })[];
}
interface Fixture {
  records: RandnRecord[];
  mt19937: Record<string, { first32_uint32: number[]; torch_rand_first32: number[] }>;
  a1111_image_rng: ImageRngCase[];
  a1111_slerp: {
    low: TensorRecord;
    high: TensorRecord;
    cases: { val: number; result: TensorRecord }[];
    linear_branch: { high: TensorRecord; cases: { val: number; result: TensorRecord }[] };
    two_d: { low: TensorRecord; high: TensorRecord; cases: { val: number; result: TensorRecord }[] };
  };
}

const skip = needFixture('rng', 'torch_cpu_randn.json');
const fixture: Fixture | null = skip ? null : JSON.parse(readFileSync(fixturePath('rng', 'torch_cpu_randn.json'), 'utf8'));

const hex = (bits: number): string => `0x${bits.toString(16).padStart(8, '0')}`;
const bitsOf = (values: ArrayLike<number>): Uint32Array => new Uint32Array(Float32Array.from(values).buffer);
const sha256 = (data: Float32Array): string =>
  createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');

/** Returns why `actual` is not bit-identical to the record, or null when it is. */
function mismatch(actual: Tensor, rec: TensorRecord): string | null {
  if (actual.size !== rec.numel) return `numel ${actual.size} != ${rec.numel}`;
  const got = new Uint32Array(actual.data.buffer, actual.data.byteOffset, actual.size);
  const want = bitsOf(rec.values);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return `value ${i}: ${hex(got[i])} (${actual.data[i]}) != ${hex(want[i])} (${rec.values[i]})`;
  }
  const head = rec.hex_first16.findIndex((h, i) => hex(got[i]) !== h);
  if (head >= 0) return `hex_first16[${head}]: ${hex(got[head])} != ${rec.hex_first16[head]}`;
  if (!rec.values_are_complete && sha256(actual.data) !== rec.sha256_f32le) return 'sha256_f32le differs';
  return null;
}

/** Checks every item, prints one summary line for the group, and fails listing every mismatch. */
function checkGroup<T>(label: string, items: readonly T[], run: (item: T) => string | null, name: (item: T) => string): void {
  const failures = items.flatMap((item) => {
    const why = run(item);
    return why === null ? [] : [`${name(item)}: ${why}`];
  });
  console.log(`# ${label}: ${items.length - failures.length}/${items.length} records bit-exact`);
  assert.deepEqual(failures, [], `${label}: ${failures.length} mismatching records`);
}

/** Draw `drawIndex` of a generator whose earlier draws had the record's shape (README: draws 1..3 are (4,8,8)). */
function drawFrom(gen: { randn(shape: number[]): Tensor }, shape: number[], drawIndex: number): Tensor {
  for (let k = 0; k < drawIndex; k++) gen.randn(shape);
  return gen.randn(shape);
}

function torchCpuDraw(rec: RandnRecord): Tensor {
  const kernel = rec.cpu_kernel ?? 'avx2';
  if (rec.api === 'torch.manual_seed+torch.randn') {
    assert.equal(rec.draw_index, 0, 'global-generator records are first draws');
    return randn(rec.seed, rec.shape, { kernel });
  }
  return drawFrom(new TorchGenerator(rec.seed, { kernel }), rec.shape, rec.draw_index);
}

const recordName = (r: RandnRecord): string =>
  `${r.source}/${r.cpu_kernel ?? '-'} ${r.api} seed=${r.seed} shape=[${r.shape}] draw=${r.draw_index}`;

describe('rng fixture: torch CPU mt19937 and randn', { skip }, () => {
  test('mt19937 raw words and torch.rand floats for every seed', () => {
    const seeds = Object.entries(fixture!.mt19937);
    checkGroup('mt19937 first 32 words', seeds, ([seed, m]) => {
      const g = new MT19937(Number(seed));
      const words = m.first32_uint32.map(() => g.random());
      const bad = words.findIndex((w, i) => w !== m.first32_uint32[i] || (w & 0xffffff) * 2 ** -24 !== m.torch_rand_first32[i]);
      return bad < 0 ? null : `word ${bad}: ${words[bad]} != ${m.first32_uint32[bad]}`;
    }, ([seed]) => `seed ${seed}`);
  });

  for (const kernel of ['avx2', 'default'] as const) {
    test(`torch_cpu ${kernel} kernel: every seed, shape, api and draw index`, () => {
      const recs = fixture!.records.filter((r) => r.source === 'torch_cpu' && r.cpu_kernel === kernel);
      assert.ok(recs.length > 0, `no ${kernel} records`);
      checkGroup(`torch_cpu/${kernel}`, recs, (r) => mismatch(torchCpuDraw(r), r), recordName);
    });
  }

  test('a1111_philox_nv: every seed, shape and draw index', () => {
    const recs = fixture!.records.filter((r) => r.source === 'a1111_philox_nv');
    assert.ok(recs.length > 0, 'no NV records');
    const run = (r: RandnRecord) => mismatch(drawFrom(new PhiloxGenerator(r.seed), r.shape, r.draw_index), r);
    checkGroup('a1111_philox_nv', recs, run, recordName);
  });

  test('every record kind in the fixture is covered above', () => {
    const kinds = new Set(fixture!.records.map((r) => `${r.source}/${r.cpu_kernel ?? '-'}`));
    assert.deepEqual([...kinds].sort(), ['a1111_philox_nv/-', 'torch_cpu/avx2', 'torch_cpu/default']);
  });
});

/**
 * slerp cannot be bit-exact: torch reduces norms and dot products in float32 and evaluates acos/sin with SLEEF's
 * 1-ulp vectorised kernels, while we sum in double and round once. The observed worst case is 7.2e-7, three float32
 * ulps at |x| ≈ 2–4, so 1e-6 bounds rounding noise while any real error (wrong axis, weights) is ≥ 1e-2.
 */
const SLERP_ATOL = 1e-6;

const toTensor = (rec: TensorRecord): Tensor => new Tensor(rec.shape, Float32Array.from(rec.values));

/** Compares the record's listed values within SLERP_ATOL (prints the max diff) and returns the max diff. */
function assertCloseRecord(actual: Tensor, rec: TensorRecord, label: string): number {
  assert.equal(actual.size, rec.numel, `${label}: numel`);
  return assertCloseTensor(actual.data.subarray(0, rec.values.length), rec.values, { atol: SLERP_ATOL, label });
}

function imageRngFor(c: ImageRngCase): ImageRNG {
  const a = c.args;
  return new ImageRNG({
    shape: a.shape,
    seeds: a.seeds,
    subseeds: a.subseeds,
    subseedStrength: a.subseed_strength,
    seedResizeFromH: a.seed_resize_from_h,
    seedResizeFromW: a.seed_resize_from_w,
    source: c.randn_source,
    etaNoiseSeedDelta: c.eta_noise_seed_delta,
  });
}

const caseName = (c: ImageRngCase): string => {
  const { shape, ...rest } = c.args;
  return `${c.randn_source} ENSD=${c.eta_noise_seed_delta} ${JSON.stringify(rest)}`;
};

describe('rng fixture: A1111 ImageRNG and slerp', { skip }, () => {
  test('ImageRNG: first() and two next() draws for every case', () => {
    let exact = 0;
    let close = 0;
    let maxDiff = 0;
    for (const c of fixture!.a1111_image_rng) {
      const rng = imageRngFor(c);
      const slerped = c.args.subseeds !== null && c.args.subseed_strength !== 0;
      for (const [k, rec] of c.draws.entries()) {
        assert.equal(rec.draw_index, k, 'draws are listed in call order');
        const x = rng.next();
        assert.deepEqual(x.shape, [c.args.seeds.length, ...c.args.shape], `${caseName(c)} draw ${k}: shape`);
        if (slerped && k === 0) {
          // Only the slerp output can differ in the last bits; the draws after it continue the seed streams exactly.
          maxDiff = Math.max(maxDiff, assertCloseRecord(x, rec, `${caseName(c)} draw 0`));
          close++;
        } else {
          assert.equal(mismatch(x, rec), null, `${caseName(c)} draw ${k}`);
          exact++;
        }
      }
    }
    const summary = `${close} slerped first draws within ${SLERP_ATOL} (max ${maxDiff.toExponential(2)})`;
    console.log(`# a1111_image_rng: ${exact} draws bit-exact, ${summary}`);
  });

  test('slerp: every case (3-D, near-parallel linear branch, 2-D)', () => {
    const s = fixture!.a1111_slerp;
    const groups = [
      { name: '(4,6,5)', low: s.low, high: s.high, cases: s.cases },
      { name: 'linear branch', low: s.low, high: s.linear_branch.high, cases: s.linear_branch.cases },
      { name: '2-D (3,16)', low: s.two_d.low, high: s.two_d.high, cases: s.two_d.cases },
    ];
    let n = 0;
    let maxDiff = 0;
    for (const g of groups) {
      assert.ok(g.cases.length > 0, `${g.name}: no cases`);
      for (const c of g.cases) {
        const out = slerp(c.val, toTensor(g.low), toTensor(g.high));
        assert.deepEqual(out.shape, c.result.shape);
        maxDiff = Math.max(maxDiff, assertCloseRecord(out, c.result, `slerp ${g.name} val=${c.val}`));
        n++;
      }
    }
    console.log(`# a1111_slerp: ${n}/${n} cases within ${SLERP_ATOL} (max ${maxDiff.toExponential(2)})`);
  });
});
