/**
 * The float32 tensor algebra of LoRA / LyCORIS weight reconstruction: matmul, the conventional `up @ down`
 * rebuild (with A1111's `dyn` truncation), the CP/Tucker cores (`lora_mid`, `hada_t*`, `lokr_t2`) and the
 * Kronecker product of LoKr. Formulas from fixtures/lora/README.md "Weight math", which also pins each einsum
 * (KohakuBlueleaf/LyCORIS, Apache-2.0, defines the same decompositions). Products are accumulated in double and
 * rounded once to float32, which keeps them within an ulp of torch's float32 GEMM.
 */
import { numel, Tensor } from '../tensor.ts';

/** `a [m, k] @ b [k, n]` → [m, n]; the pipeline may swap in onnxruntime for large products. */
export type MatMul = (a: Tensor, b: Tensor) => Promise<Tensor>;

/** Plain JS matmul (i-k-j order, double accumulation); fine for LoRA ranks of small models and tests. */
export const jsMatMul: MatMul = async (a, b) => matmulSync(a, b);

export function matmulSync(a: Tensor, b: Tensor): Tensor {
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (a.shape.length !== 2 || b.shape.length !== 2 || k !== k2) {
    throw new Error(`matmul: cannot multiply [${a.shape.join(', ')}] by [${b.shape.join(', ')}]`);
  }
  const acc = new Float64Array(n);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const av = a.data[i * k + p];
      if (av === 0) continue;
      const row = p * n;
      for (let j = 0; j < n; j++) acc[j] += av * b.data[row + j];
    }
    out.set(acc, i * n); // Float64 → Float32: one rounding per element
  }
  return new Tensor([m, n], out);
}

/** `t.reshape(t.shape[0], -1)`. */
export const flatten2d = (t: Tensor): Tensor => t.reshape([t.shape[0], t.size / t.shape[0]]);

/** Reshape that must keep the element count (torch raises otherwise; the message mirrors its). */
export function reshapeTo(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) !== t.size) throw new Error(`shape '[${shape.join(', ')}]' is invalid for input of size ${t.size}`);
  return t.reshape(shape);
}

/** lyco_helpers.rebuild_conventional: `(up[:, :dyn] @ down[:dyn]).reshape(shape)` on the 2-D views. */
export async function rebuildConventional(up: Tensor, down: Tensor, shape: readonly number[], dyn: number | null, matmul: MatMul): Promise<Tensor> {
  let u = flatten2d(up);
  let d = flatten2d(down);
  if (dyn !== null) {
    const r = Math.max(0, Math.min(dyn, u.shape[1], d.shape[0]));
    u = sliceColumns(u, r);
    d = new Tensor([r, d.shape[1]], d.data.slice(0, r * d.shape[1]));
  }
  return reshapeTo(await matmul(u, d), shape);
}

function sliceColumns(t: Tensor, cols: number): Tensor {
  const [rows, n] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) out.set(t.data.subarray(i * n, i * n + cols), i * cols);
  return new Tensor([rows, cols], out);
}

/**
 * lyco_helpers.make_weight_cp, `einsum('i j k l, j r, i p -> p r k l', t, wb, wa)` in A1111's two steps:
 * t [R1, R2, kh, kw], wb [R2, in], wa [R1, out] → [out, in, kh, kw].
 */
export function makeWeightCp(t: Tensor, wa: Tensor, wb: Tensor): Tensor {
  const [r1, r2, kh, kw] = t.shape;
  const inDim = wb.shape[1];
  const out = wa.shape[1];
  if (t.shape.length !== 4 || wb.shape[0] !== r2 || wa.shape[0] !== r1) {
    throw new Error(`Tucker core [${t.shape.join(', ')}] does not fit factors [${wa.shape.join(', ')}] and [${wb.shape.join(', ')}]`);
  }
  const kk = kh * kw;
  // temp[i, r, k, l] = Σ_j t[i, j, k, l] · wb[j, r]
  const temp = new Float32Array(r1 * inDim * kk);
  for (let i = 0; i < r1; i++)
    for (let r = 0; r < inDim; r++)
      for (let s = 0; s < kk; s++) {
        let acc = 0;
        for (let j = 0; j < r2; j++) acc += t.data[(i * r2 + j) * kk + s] * wb.data[j * inDim + r];
        temp[(i * inDim + r) * kk + s] = acc;
      }
  // result[p, r, k, l] = Σ_i temp[i, r, k, l] · wa[i, p]
  const result = new Float32Array(out * inDim * kk);
  for (let p = 0; p < out; p++)
    for (let rs = 0; rs < inDim * kk; rs++) {
      let acc = 0;
      for (let i = 0; i < r1; i++) acc += temp[i * inDim * kk + rs] * wa.data[i * out + p];
      result[p * inDim * kk + rs] = acc;
    }
  return new Tensor([out, inDim, kh, kw], result);
}

/**
 * lyco_helpers.rebuild_cp_decomposition (LoCon `lora_mid`): `einsum('n m k l, i n, m j -> i j k l', mid, up, down)`
 * with up [out, R] and down [R, in] as 2-D views → [out, in, kh, kw].
 */
export function rebuildCpDecomposition(up: Tensor, down: Tensor, mid: Tensor): Tensor {
  const u = flatten2d(up);
  const d = flatten2d(down);
  const [rn, rm, kh, kw] = mid.shape;
  const [out, r1] = u.shape;
  const [r2, inDim] = d.shape;
  if (mid.shape.length !== 4 || r1 !== rn || r2 !== rm) {
    throw new Error(`lora_mid [${mid.shape.join(', ')}] does not fit lora_up [${up.shape.join(', ')}] and lora_down [${down.shape.join(', ')}]`);
  }
  const kk = kh * kw;
  // upMid[i, m, k, l] = Σ_n up[i, n] · mid[n, m, k, l]
  const upMid = new Float64Array(out * rm * kk);
  for (let i = 0; i < out; i++)
    for (let n = 0; n < rn; n++) {
      const uv = u.data[i * rn + n];
      for (let ms = 0; ms < rm * kk; ms++) upMid[i * rm * kk + ms] += uv * mid.data[n * rm * kk + ms];
    }
  const result = new Float32Array(out * inDim * kk);
  for (let i = 0; i < out; i++)
    for (let j = 0; j < inDim; j++)
      for (let s = 0; s < kk; s++) {
        let acc = 0;
        for (let m = 0; m < rm; m++) acc += upMid[(i * rm + m) * kk + s] * d.data[m * inDim + j];
        result[(i * inDim + j) * kk + s] = acc;
      }
  return new Tensor([out, inDim, kh, kw], result);
}

/** torch.kron for tensors of equal rank: out[i·B + j] = a[i] · b[j] along every axis. */
export function kron(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== b.shape.length) throw new Error(`kron: ranks differ ([${a.shape.join(', ')}] and [${b.shape.join(', ')}])`);
  const rank = a.shape.length;
  const shape = a.shape.map((d, i) => d * b.shape[i]);
  const out = new Float32Array(numel(shape));
  const aIdx = new Array<number>(rank).fill(0);
  for (let ia = 0; ia < a.size; ia++) {
    unravel(ia, a.shape, aIdx);
    const av = a.data[ia];
    const bIdx = new Array<number>(rank).fill(0);
    for (let ib = 0; ib < b.size; ib++) {
      unravel(ib, b.shape, bIdx);
      let flat = 0;
      for (let d = 0; d < rank; d++) flat = flat * shape[d] + aIdx[d] * b.shape[d] + bIdx[d];
      out[flat] = av * b.data[ib];
    }
  }
  return new Tensor(shape, out);
}

function unravel(index: number, shape: readonly number[], into: number[]): void {
  for (let d = shape.length - 1; d >= 0; d--) {
    into[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
}

/** Elementwise float32 product of equally sized tensors, with the shape of `a`. */
export function hadamard(a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new Error(`cannot multiply [${a.shape.join(', ')}] and [${b.shape.join(', ')}] elementwise`);
  const out = new Float32Array(a.size);
  for (let i = 0; i < a.size; i++) out[i] = a.data[i] * b.data[i];
  return new Tensor(a.shape, out);
}
