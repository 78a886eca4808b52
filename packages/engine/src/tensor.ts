/**
 * A tiny dense float32 tensor (row-major, NCHW for images) with the elementwise ops that samplers and the
 * pipeline need. Heavy maths runs in onnxruntime; this only glues sampler steps together.
 */
export type Shape = readonly number[];

export function numel(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class Tensor {
  readonly shape: Shape;
  readonly data: Float32Array;

  constructor(shape: Shape, data?: Float32Array) {
    this.shape = [...shape];
    this.data = data ?? new Float32Array(numel(shape));
    if (this.data.length !== numel(shape)) {
      throw new Error(`Tensor: data has ${this.data.length} values but shape [${shape.join(', ')}] needs ${numel(shape)}`);
    }
  }

  static zeros(shape: Shape): Tensor {
    return new Tensor(shape);
  }

  static full(shape: Shape, value: number): Tensor {
    return new Tensor(shape, new Float32Array(numel(shape)).fill(value));
  }

  get size(): number {
    return this.data.length;
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  reshape(shape: Shape): Tensor {
    return new Tensor(shape, this.data);
  }

  /** Elementwise `this + other` (a tensor of the same size, or a scalar). */
  add(other: Tensor | number): Tensor {
    return this.zip(other, (a, b) => a + b);
  }

  sub(other: Tensor | number): Tensor {
    return this.zip(other, (a, b) => a - b);
  }

  mul(other: Tensor | number): Tensor {
    return this.zip(other, (a, b) => a * b);
  }

  div(other: Tensor | number): Tensor {
    return this.zip(other, (a, b) => a / b);
  }

  map(fn: (value: number, index: number) => number): Tensor {
    const out = new Float32Array(this.data.length);
    for (let i = 0; i < out.length; i++) out[i] = fn(this.data[i], i);
    return new Tensor(this.shape, out);
  }

  /** Item `i` along the first (batch) axis, as a tensor of shape `shape.slice(1)`; shares memory. */
  get(i: number): Tensor {
    const inner = this.shape.slice(1);
    const n = numel(inner);
    return new Tensor(inner, this.data.subarray(i * n, (i + 1) * n));
  }

  /** Stacks same-shaped tensors along a new first axis (torch.stack(dim=0)). */
  static stack(items: readonly Tensor[]): Tensor {
    if (items.length === 0) throw new Error('Tensor.stack: no tensors');
    return Tensor.cat(items.map((t) => t.reshape([1, ...t.shape])));
  }

  /** Concatenates along the first axis (torch.cat(dim=0)). */
  static cat(items: readonly Tensor[]): Tensor {
    if (items.length === 0) throw new Error('Tensor.cat: no tensors');
    const inner = items[0].shape.slice(1);
    let rows = 0;
    for (const t of items) {
      if (t.shape.slice(1).join() !== inner.join()) {
        throw new Error(`Tensor.cat: shape [${t.shape}] does not match [*, ${inner}]`);
      }
      rows += t.shape[0];
    }
    const out = new Float32Array(rows * numel(inner));
    let offset = 0;
    for (const t of items) {
      out.set(t.data, offset);
      offset += t.data.length;
    }
    return new Tensor([rows, ...inner], out);
  }

  private zip(other: Tensor | number, fn: (a: number, b: number) => number): Tensor {
    const out = new Float32Array(this.data.length);
    if (typeof other === 'number') {
      for (let i = 0; i < out.length; i++) out[i] = fn(this.data[i], other);
    } else {
      if (other.data.length !== out.length) {
        throw new Error(`Tensor: size mismatch [${this.shape}] vs [${other.shape}]`);
      }
      for (let i = 0; i < out.length; i++) out[i] = fn(this.data[i], other.data[i]);
    }
    return new Tensor(this.shape, out);
  }
}
