/**
 * The torch.nn layers Stable Diffusion uses, as graph modules that declare their parameters by name and shape.
 */
import type { Value } from '../onnx/graph.ts';
import * as F from '../onnx/ops.ts';
import { Module } from './module.ts';

/** A module with a single-input forward, so it can sit in a Sequential. */
export abstract class Layer extends Module {
  abstract forward(x: Value): Value;
}

export class Conv2d extends Layer {
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly opts: { stride?: number; padding?: number; pads?: number[] } = {}) {
    super();
  }

  forward(x: Value): Value {
    const g = x.graph;
    const k = this.kernelSize;
    const weight = this.param(g, 'weight', [this.outChannels, this.inChannels, k, k]);
    return F.conv2d(x, weight, this.param(g, 'bias', [this.outChannels]), this.opts);
  }
}

export class Linear extends Layer {
  constructor(readonly inFeatures: number, readonly outFeatures: number, readonly bias = true) {
    super();
  }

  forward(x: Value): Value {
    const g = x.graph;
    const weight = this.param(g, 'weight', [this.outFeatures, this.inFeatures]);
    return F.linear(x, weight, this.bias ? this.param(g, 'bias', [this.outFeatures]) : null);
  }
}

export class GroupNorm extends Layer {
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5) {
    super();
  }

  forward(x: Value): Value {
    const g = x.graph;
    const c = this.numChannels;
    return F.groupNorm(x, this.numGroups, this.param(g, 'weight', [c]), this.param(g, 'bias', [c]), this.eps);
  }
}

export class LayerNorm extends Layer {
  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
  }

  forward(x: Value): Value {
    const g = x.graph;
    return F.layerNorm(x, this.param(g, 'weight', [this.dim]), this.param(g, 'bias', [this.dim]), this.eps);
  }
}

/**
 * Vectors that replace looked-up rows: `rows` [N, L, C] wherever the float `mask` [N, L, 1] is 1 (textual
 * inversion, A1111's `EmbeddingsWithFixes` around the CLIP token embedding).
 */
export interface EmbeddingFixes {
  rows: Value;
  mask: Value;
}

/** nn.Embedding: rows of `weight` [num, dim] gathered by integer ids (optionally with fixes applied). */
export class Embedding extends Module {
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number) {
    super();
  }

  forward(ids: Value, fixes?: EmbeddingFixes): Value {
    const weight = this.param(ids.graph, 'weight', [this.numEmbeddings, this.embeddingDim]);
    const looked = ids.graph.node('Gather', [weight, ids], { axis: 0 }, [[...ids.shape, this.embeddingDim]])[0];
    // A select, not a blend: the kept and the replaced rows are bit-exact.
    return fixes ? F.where(F.cast(fixes.mask, 'bool'), fixes.rows, looked) : looked;
  }
}

export class SiLU extends Layer {
  forward(x: Value): Value {
    return F.silu(x);
  }
}

/** Placeholder that keeps Sequential indices equal to the checkpoint's (inference: identity). */
export class Dropout extends Layer {
  forward(x: Value): Value {
    return x;
  }
}

export class Identity extends Layer {
  forward(x: Value): Value {
    return x;
  }
}

/** nn.Sequential: children named 0..n-1. */
export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
  }

  override children(): [string, Module][] {
    return this.layers.map((layer, i) => [String(i), layer]);
  }

  forward(x: Value): Value {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
}
