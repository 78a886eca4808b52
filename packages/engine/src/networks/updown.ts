/**
 * ΔW of one network module for one layer, as A1111 v1.10.1 computes it (fixtures/lora/README.md "Weight math";
 * A1111 `network.py` calc_scale/finalize_updown, `network_lora.py`, `network_hada.py`, `network_lokr.py`, learned
 * from the README and its fixtures): the type's reconstruction in its own output shape, reshaped to the layer's
 * shape when the element counts agree, then multiplied by the scale and the multiplier, in that order, in float32.
 */
import { numel, Tensor } from '../tensor.ts';
import { hadamard, kron, type MatMul, makeWeightCp, rebuildConventional, rebuildCpDecomposition, reshapeTo } from './lyco-math.ts';
import type { NetworkModuleWeights } from './network-file.ts';

export interface Updown {
  /** ΔW before scale and multiplier, in the module's output shape. */
  updown: Tensor;
  /** A1111's `dim` (the rank the scale divides alpha by), or null when the type leaves it unknown. */
  dim: number | null;
}

const need = (m: NetworkModuleWeights, part: string): Tensor => {
  const t = m.w.get(part);
  if (!t) throw new Error(`module ${m.name} has no '${part}'`);
  return t;
};

/** The type's reconstruction against a layer whose weight has shape `target` (calc_updown before finalize_updown). */
export function calcUpdown(m: NetworkModuleWeights, target: readonly number[], dyn: number | null, matmul: MatMul): Promise<Updown> {
  switch (m.type) {
    case 'lora':
      return loraUpdown(m, dyn, matmul);
    case 'loha':
      return lohaUpdown(m, matmul);
    case 'lokr':
      return lokrUpdown(m, target, matmul);
    default:
      throw new Error(`module ${m.name} ${m.unsupported ?? 'has no known type'}`);
  }
}

/** LoRA/LoCon: up (out, r[,1,1]) · down (r, in[,kh,kw]), or the CP form with `lora_mid`; r = rows of down. */
async function loraUpdown(m: NetworkModuleWeights, dyn: number | null, matmul: MatMul): Promise<Updown> {
  const up = need(m, 'lora_up.weight');
  const down = need(m, 'lora_down.weight');
  const mid = m.w.get('lora_mid.weight');
  const dim = down.shape[0];
  if (mid) return { updown: rebuildCpDecomposition(up, down, mid), dim };
  const shape = [up.shape[0], down.shape[1], ...down.shape.slice(2)];
  return { updown: await rebuildConventional(up, down, shape, dyn, matmul), dim };
}

/** LoHa: (w1a @ w1b) ⊙ (w2a @ w2b), each factor optionally through a Tucker core; r = rows of hada_w1_b. */
async function lohaUpdown(m: NetworkModuleWeights, matmul: MatMul): Promise<Updown> {
  const [w1a, w1b, w2a, w2b] = ['hada_w1_a', 'hada_w1_b', 'hada_w2_a', 'hada_w2_b'].map((p) => need(m, p));
  const t1 = m.w.get('hada_t1');
  const t2 = m.w.get('hada_t2');
  let shape = [w1a.shape[0], w1b.shape[1]];
  let up1: Tensor;
  if (t1) {
    shape = [w1a.shape[1], w1b.shape[1], ...t1.shape.slice(2)];
    up1 = makeWeightCp(t1, w1a, w1b);
  } else {
    shape = [...shape, ...w1b.shape.slice(2)];
    up1 = await rebuildConventional(w1a, w1b, shape, null, matmul);
  }
  const up2 = t2 ? makeWeightCp(t2, w2a, w2b) : await rebuildConventional(w2a, w2b, shape, null, matmul);
  return { updown: hadamard(up1, up2), dim: w1b.shape[0] };
}

/**
 * LoKr: kron(w1, w2), each factor stored whole or as a product (w2 also as a Tucker core). The rank is the rows
 * of lokr_w2_b, else of lokr_w1_b, else unknown, so a fully stored LoKr ignores its alpha (README surprise).
 */
async function lokrUpdown(m: NetworkModuleWeights, target: readonly number[], matmul: MatMul): Promise<Updown> {
  const w1b = m.w.get('lokr_w1_b');
  const w2b = m.w.get('lokr_w2_b');
  const w1 = m.w.get('lokr_w1') ?? (await matmul(need(m, 'lokr_w1_a'), need(m, 'lokr_w1_b')));
  const t2 = m.w.get('lokr_t2');
  const w2 =
    m.w.get('lokr_w2') ?? (t2 ? makeWeightCp(t2, need(m, 'lokr_w2_a'), need(m, 'lokr_w2_b')) : await matmul(need(m, 'lokr_w2_a'), need(m, 'lokr_w2_b')));
  const shape = target.length === 4 ? [...target] : [w1.shape[0] * w2.shape[0], w1.shape[1] * w2.shape[1]];
  const a = w2.shape.length === 4 ? w1.reshape([...w1.shape, 1, 1]) : w1; // w1 viewed as (a, c, 1, 1) next to a conv w2
  const dim = w2b ? w2b.shape[0] : w1b ? w1b.shape[0] : null;
  return { updown: reshapeTo(kron(a, w2), shape), dim };
}

/** A1111 calc_scale: a stored `scale` wins, else alpha / dim when both are known, else 1. */
export function calcScale(m: NetworkModuleWeights, dim: number | null): number {
  if (m.scale !== null) return m.scale;
  if (dim !== null && m.alpha !== null) return m.alpha / dim;
  return 1.0;
}

/**
 * A1111 finalize_updown: reshape to the layer's shape when the element counts agree (else keep the module's
 * shape, which then fails to add), then ΔW · scale · multiplier, each product rounded to float32 as torch does
 * for a float32 tensor times a Python float. Scales `updown` in place (calcUpdown's result is always fresh).
 */
export function finalizeUpdown(updown: Tensor, target: readonly number[], scale: number, multiplier: number): Tensor {
  const shaped = numel(target) === updown.size ? updown.reshape(target) : updown;
  const s = Math.fround(scale);
  const mult = Math.fround(multiplier);
  const d = shaped.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i] * s) * mult;
  return shaped;
}

/**
 * `W + ΔW` in float32: into `weight` itself when `inPlace`, else into a new tensor (so a checkpoint weight is
 * never modified); an inpainting conv_in (9 input channels) takes a 4-channel ΔW zero-padded. Throws, changing
 * nothing, when the shapes differ.
 */
export function addUpdown(weight: Tensor, updown: Tensor, inPlace: boolean): Tensor {
  const delta = weight.shape.length === 4 && weight.shape[1] === 9 && updown.shape.length === 4 && updown.shape[1] === 4 ? padChannels(updown, 9) : updown;
  const same = delta.shape.length === weight.shape.length && delta.shape.every((d, i) => d === weight.shape[i]);
  if (!same) {
    const axis = delta.shape.findIndex((d, i) => d !== weight.shape[i]);
    throw new Error(
      `The size of tensor a (${weight.shape[axis] ?? '?'}) must match the size of tensor b (${delta.shape[axis] ?? '?'}) at non-singleton dimension ${axis} (weight [${weight.shape.join(', ')}], ΔW [${delta.shape.join(', ')}])`,
    );
  }
  const w = weight.data;
  const d = delta.data;
  const out = inPlace ? w : new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i] + d[i];
  return inPlace ? weight : new Tensor(weight.shape, out);
}

function padChannels(t: Tensor, channels: number): Tensor {
  const [o, c, kh, kw] = t.shape;
  const kk = kh * kw;
  const out = new Float32Array(o * channels * kk);
  for (let i = 0; i < o; i++) out.set(t.data.subarray(i * c * kk, (i + 1) * c * kk), i * channels * kk);
  return new Tensor([o, channels, kh, kw], out);
}
