/**
 * ESRGAN's generator, RRDBNet (Wang et al. 2018, "ESRGAN"), as BasicSR writes it (xinntao/BasicSR
 * basicsr/archs/rrdbnet_arch.py, Apache-2.0), which Real-ESRGAN's models use too: a 3×3 conv, `num_block`
 * Residual-in-Residual Dense Blocks, a 3×3 conv added back to the trunk, nearest ×2 upsamplings each followed by a
 * conv and LeakyReLU(0.2), then two convs. Real-ESRGAN's ×2 and ×1 models first fold the image into channels
 * (torch `pixel_unshuffle` by 2 or 4), so they too upsample ×4 inside.
 *
 * Two key layouts are read (both map onto the module names below): BasicSR's (`conv_first`, `body.N.rdb1.conv1`,
 * `conv_body`, `conv_up1`, …) and the original ESRGAN repository's sequential one (`model.0`,
 * `model.1.sub.N.RDB1.conv1.0`, `model.1.sub.<num_block>`, `model.3`, `model.6`, …), where the number of
 * upsamplings (×2 each) follows from the keys.
 */
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import { Conv2d } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';

export interface RrdbConfig {
  /** Image channels in and out (3). */
  inChannels: number;
  outChannels: number;
  /** num_feat, num_grow_ch, num_block. */
  features: number;
  growth: number;
  blocks: number;
  /** Nearest ×2 upsamplings (2 in BasicSR's RRDBNet). */
  upsamplings: number;
  /** pixel_unshuffle factor before the first conv (1: none; Real-ESRGAN ×2 models: 2). */
  unshuffle: number;
  /** Output size ÷ input size: 2^upsamplings ÷ unshuffle. */
  scale: number;
  layout: 'basicsr' | 'esrgan';
}

const lrelu = (x: Value) => x.graph.node('LeakyRelu', [x], { alpha: { float: 0.2 } }, [x.shape])[0];
const conv3 = (cin: number, cout: number) => new Conv2d(cin, cout, 3, { padding: 1 });

/** Five 3×3 convs, each seeing the block input and every earlier conv's output; the result scaled by 0.2 and added. */
class ResidualDenseBlock extends Module {
  readonly conv1: Conv2d;
  readonly conv2: Conv2d;
  readonly conv3: Conv2d;
  readonly conv4: Conv2d;
  readonly conv5: Conv2d;

  constructor(nf: number, gc: number) {
    super();
    this.conv1 = conv3(nf, gc);
    this.conv2 = conv3(nf + gc, gc);
    this.conv3 = conv3(nf + 2 * gc, gc);
    this.conv4 = conv3(nf + 3 * gc, gc);
    this.conv5 = conv3(nf + 4 * gc, nf);
  }

  forward(x: Value): Value {
    const seen = [x];
    for (const conv of [this.conv1, this.conv2, this.conv3, this.conv4]) seen.push(lrelu(conv.forward(F.concat(seen, 1))));
    return F.add(F.mul(this.conv5.forward(F.concat(seen, 1)), 0.2), x);
  }
}

class RRDB extends Module {
  readonly rdb1: ResidualDenseBlock;
  readonly rdb2: ResidualDenseBlock;
  readonly rdb3: ResidualDenseBlock;

  constructor(nf: number, gc: number) {
    super();
    this.rdb1 = new ResidualDenseBlock(nf, gc);
    this.rdb2 = new ResidualDenseBlock(nf, gc);
    this.rdb3 = new ResidualDenseBlock(nf, gc);
  }

  forward(x: Value): Value {
    return F.add(F.mul(this.rdb3.forward(this.rdb2.forward(this.rdb1.forward(x))), 0.2), x);
  }
}

export class RRDBNet extends Module {
  readonly conv_first: Conv2d;
  readonly body: RRDB[];
  readonly conv_body: Conv2d;
  /** conv_up1, conv_up2, …: set as own properties so that their names are the checkpoint's. */
  readonly [up: `conv_up${number}`]: Conv2d;
  readonly conv_hr: Conv2d;
  readonly conv_last: Conv2d;

  constructor(readonly config: RrdbConfig) {
    super();
    const { features: nf, growth: gc } = config;
    this.conv_first = conv3(config.inChannels * config.unshuffle ** 2, nf);
    this.body = Array.from({ length: config.blocks }, () => new RRDB(nf, gc));
    this.conv_body = conv3(nf, nf);
    for (let i = 1; i <= config.upsamplings; i++) (this as Record<string, unknown>)[`conv_up${i}`] = conv3(nf, nf);
    this.conv_hr = conv3(nf, nf);
    this.conv_last = conv3(nf, config.outChannels);
  }

  /** [N, C, H, W] in [0, 1] → [N, C, H·scale, W·scale] (not clamped). */
  forward(x: Value): Value {
    let feat = this.conv_first.forward(this.config.unshuffle > 1 ? pixelUnshuffle(x, this.config.unshuffle, this.config.inChannels) : x);
    let trunk = feat;
    for (const block of this.body) trunk = block.forward(trunk);
    feat = F.add(feat, this.conv_body.forward(trunk));
    for (let i = 1; i <= this.config.upsamplings; i++) feat = lrelu(this[`conv_up${i}`].forward(F.interpolateNearest2x(feat)));
    return this.conv_last.forward(lrelu(this.conv_hr.forward(feat)));
  }
}

/**
 * torch `pixel_unshuffle(x, r)`: channel c·r² + i·r + j holds pixel (i, j) of each r×r cell. ONNX SpaceToDepth
 * orders them (i·r + j)·C + c instead, so its channels are gathered into torch's order.
 */
function pixelUnshuffle(x: Value, r: number, channels: number): Value {
  const folded = x.graph.node('SpaceToDepth', [x], { blocksize: r }, [[x.shape[0], channels * r * r, '?', '?']])[0];
  const order: number[] = [];
  for (let c = 0; c < channels; c++) for (let k = 0; k < r * r; k++) order.push(k * channels + c);
  const index = x.graph.constant(order, [order.length], 'int64');
  return x.graph.node('Gather', [folded, index], { axis: 1 }, [folded.shape])[0];
}

/** Graph: `image` [N, C, H, W] (values 0…1) → `upscaled` [N, C, H·s, W·s]. */
export function buildRrdbGraph(config: RrdbConfig): Graph {
  const graph = new Graph('rrdbnet');
  const net = new RRDBNet(config).bindNames('');
  graph.output(net.forward(graph.input('image', ['N', config.inChannels, 'H', 'W'])), 'upscaled');
  return graph;
}

/** The configuration of an RRDBNet file from its keys and shapes; a file of another kind is a CheckpointError. */
export function detectRrdb(file: SafetensorsFile): RrdbConfig {
  const shape = (key: string) => (file.has(key) ? file.info(key).shape : null);
  const count = (key: (i: number) => string) => {
    let n = 0;
    while (file.has(key(n))) n++;
    return n;
  };
  const first = shape('conv_first.weight');
  if (first) {
    const outChannels = shape('conv_last.weight')?.[0] ?? 3;
    // A model that folds the image first has in_nc = out_nc · r² (spandrel reads the factor the same way).
    const unshuffle = Math.round(Math.sqrt(first[1] / outChannels));
    const upsamplings = count((i) => `conv_up${i + 1}.weight`);
    return {
      layout: 'basicsr',
      inChannels: first[1] / unshuffle ** 2,
      outChannels,
      features: first[0],
      growth: (shape('body.0.rdb1.conv1.weight') ?? [32])[0],
      blocks: count((i) => `body.${i}.rdb1.conv1.weight`),
      upsamplings,
      unshuffle,
      scale: 2 ** upsamplings / unshuffle,
    };
  }
  const old = shape('model.0.weight');
  if (old) {
    const upsamplings = count((i) => `model.${3 * (i + 1)}.weight`);
    const outChannels = shape(`model.${3 * upsamplings + 4}.weight`)?.[0] ?? 3;
    // A model that folds the image first has in_nc = out_nc · r² (spandrel reads the factor the same way).
    const unshuffle = Math.round(Math.sqrt(old[1] / outChannels));
    return {
      layout: 'esrgan',
      inChannels: old[1] / unshuffle ** 2,
      outChannels,
      features: old[0],
      growth: (shape('model.1.sub.0.RDB1.conv1.0.weight') ?? [32])[0],
      blocks: count((i) => `model.1.sub.${i}.RDB1.conv1.0.weight`),
      upsamplings,
      unshuffle,
      scale: 2 ** upsamplings / unshuffle,
    };
  }
  throw new CheckpointError(file.path, 'is not an ESRGAN / Real-ESRGAN (RRDBNet) model: it has neither conv_first.weight nor model.0.weight');
}

/** The file key of a graph parameter: the name itself for BasicSR files, the sequential one for ESRGAN files. */
export function rrdbKeyOf(config: RrdbConfig): (param: string) => string {
  if (config.layout === 'basicsr') return (p) => p;
  const u = config.upsamplings;
  return (p) => {
    const [, block, rdb, conv, rest] = /^body\.(\d+)\.rdb(\d)\.conv(\d)\.(.+)$/.exec(p) ?? [];
    if (block) return `model.1.sub.${block}.RDB${rdb}.conv${conv}.0.${rest}`;
    const [, name, param] = /^(conv_\w+?)\.(weight|bias)$/.exec(p) ?? [];
    const up = /^conv_up(\d+)$/.exec(name ?? '');
    if (up) return `model.${3 * Number(up[1])}.${param}`;
    const index = { conv_first: '0', conv_body: `1.sub.${config.blocks}`, conv_hr: String(3 * u + 2), conv_last: String(3 * u + 4) }[name ?? ''];
    if (index === undefined) throw new Error(`rrdbnet: no ESRGAN key for ${p}`);
    return `model.${index}.${param}`;
  };
}

/** Opens a file just to read its configuration. */
export function readRrdbConfig(path: string): RrdbConfig {
  const file = SafetensorsFile.open(path);
  try {
    return detectRrdb(file);
  } finally {
    file.close();
  }
}
