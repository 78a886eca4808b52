/**
 * TAESD, the tiny autoencoder of madebyollin/taesd (MIT): a 1.2M-parameter decoder that maps diffusion-space
 * latents straight to RGB in [0, 1], for live previews (A1111's `show_progress_type: "TAESD"`). Written from the
 * architecture of taesd.py; the module names are the keys of its `taesd_decoder` / `taesdxl_decoder` weight
 * files (an nn.Sequential, so the keys are layer indices: `1.weight`, `3.conv.0.weight`, …).
 *
 *   Clamp (tanh(x/3)·3) · conv(4→64) · ReLU · 3×Block · ↑2 · conv · 3×Block · ↑2 · conv · 3×Block · ↑2 · conv · Block · conv(64→3)
 *   Block(x) = ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x)
 */
import { Graph, type Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { Conv2d, Layer } from '../nn/layers.ts';
import { Module } from '../nn/module.ts';

const CHANNELS = 64;

/** A 3×3 conv without bias (TAESD's convs after each upsampling). */
class Conv2dNoBias extends Layer {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
  ) {
    super();
  }

  forward(x: Value): Value {
    return F.conv2d(x, this.param(x.graph, 'weight', [this.outChannels, this.inChannels, 3, 3]), null, { padding: 1 });
  }
}

/** conv · ReLU · conv · ReLU · conv, keys `conv.0`, `conv.2`, `conv.4` (the ReLUs hold no weights). */
class BlockConvs extends Module {
  readonly [index: string]: unknown;
  constructor() {
    super();
    for (const i of [0, 2, 4]) (this as Record<string, unknown>)[String(i)] = new Conv2d(CHANNELS, CHANNELS, 3, { padding: 1 });
  }

  forward(x: Value): Value {
    const conv = (i: number) => this[String(i)] as Conv2d;
    return conv(4).forward(F.relu(conv(2).forward(F.relu(conv(0).forward(x)))));
  }
}

class Block extends Module {
  readonly conv = new BlockConvs();

  forward(x: Value): Value {
    return F.relu(F.add(this.conv.forward(x), x)); // skip is Identity: n_in = n_out
  }
}

type Step = { kind: 'layer'; index: number } | { kind: 'relu' } | { kind: 'upsample' } | { kind: 'clamp' };

export class TaesdDecoder extends Module {
  readonly [index: string]: unknown;
  private readonly steps: Step[] = [];

  constructor(readonly latentChannels = 4) {
    super();
    const add = (module: Module | null, step?: Step['kind']) => {
      const index = this.steps.length;
      if (module) (this as Record<string, unknown>)[String(index)] = module;
      this.steps.push(module ? { kind: 'layer', index } : ({ kind: step } as Step));
    };
    add(null, 'clamp');
    add(new Conv2d(latentChannels, CHANNELS, 3, { padding: 1 }));
    add(null, 'relu');
    for (let stage = 0; stage < 3; stage++) {
      for (let b = 0; b < 3; b++) add(new Block());
      add(null, 'upsample');
      add(new Conv2dNoBias(CHANNELS, CHANNELS));
    }
    add(new Block());
    add(new Conv2d(CHANNELS, 3, 3, { padding: 1 }));
  }

  forward(latent: Value): Value {
    let x = latent;
    for (const step of this.steps) {
      if (step.kind === 'clamp') x = F.mul(F.tanh(F.mul(x, 1 / 3)), 3);
      else if (step.kind === 'relu') x = F.relu(x);
      else if (step.kind === 'upsample') x = F.interpolateNearest2x(x);
      else x = (this[String(step.index)] as Block | Conv2d).forward(x);
    }
    return x;
  }
}

/** Graph: `latent` [N, C, h, w] (diffusion space, as the UNet sees it) → `image` [N, 3, 8h, 8w] in about [0, 1]. */
export function buildTaesdDecoderGraph(latentChannels = 4): Graph {
  const graph = new Graph('taesd_decoder');
  const decoder = new TaesdDecoder(latentChannels).bindNames('');
  graph.output(decoder.forward(graph.input('latent', ['N', latentChannels, 'h', 'w'])), 'image');
  return graph;
}
