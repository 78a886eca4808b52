/**
 * Small RRDBNet (ESRGAN) files for tests, in either key layout: random ones, and a ×4 model whose weights make it
 * copy each pixel 4×4 (an exact nearest-neighbour enlargement), since no genuine model is available offline.
 */
import { writeSafetensors } from '../../src/checkpoint/safetensors.ts';
import { buildRrdbGraph, type RrdbConfig, rrdbKeyOf } from '../../src/upscalers/rrdbnet.ts';

export type Weights = Map<string, { dims: number[]; data: Float32Array }>;

export const small = (over: Partial<RrdbConfig> = {}): RrdbConfig => ({
  layout: 'basicsr',
  inChannels: 3,
  outChannels: 3,
  features: 6,
  growth: 4,
  blocks: 2,
  upsamplings: 2,
  unshuffle: 1,
  scale: 4,
  ...over,
});

/** Every parameter of the graph for `config`, by graph name, from `value(name, i)`. */
export function weightsFor(config: RrdbConfig, value: (name: string, i: number) => number): Weights {
  const out: Weights = new Map();
  for (const p of buildRrdbGraph(config).params.values()) {
    out.set(p.name, { dims: [...p.dims], data: Float32Array.from({ length: p.dims.reduce((a, b) => a * b, 1) }, (_, i) => value(p.name, i)) });
  }
  return out;
}

/** Writes the weights under the file keys of `config.layout` (the old ESRGAN layout renames them). */
export function writeModel(path: string, config: RrdbConfig, weights: Weights): string {
  const keyOf = rrdbKeyOf(config);
  const tensors = new Map([...weights].map(([name, w]) => [keyOf(name), { dtype: 'F32' as const, shape: w.dims, data: new Uint8Array(w.data.buffer) }]));
  writeSafetensors(path, tensors);
  return path;
}

/**
 * A ×4 model that copies the image: conv_first puts BGR into its first three features (the dense blocks are zero,
 * so the trunk adds nothing), every later conv passes them on, conv_last takes them back out. The output is
 * then exactly the nearest-neighbour ×4 enlargement, in the same channel order it came in.
 */
export function writeCopyModel(path: string): string {
  const config = small({ blocks: 1 });
  const centreIdentity = (dims: number[], i: number) => {
    const [, cin] = dims;
    const o = Math.floor(i / (cin * 9));
    const c = Math.floor(i / 9) % cin;
    return o === c && o < 3 && i % 9 === 4 ? 1 : 0;
  };
  const weights = weightsFor(config, () => 0);
  for (const name of ['conv_first', 'conv_up1', 'conv_up2', 'conv_hr', 'conv_last']) {
    const wt = weights.get(`${name}.weight`) as { dims: number[]; data: Float32Array };
    wt.data = Float32Array.from(wt.data, (_, i) => centreIdentity(wt.dims, i));
  }
  return writeModel(path, config, weights);
}
