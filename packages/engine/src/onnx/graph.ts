/**
 * An in-memory ONNX graph under construction. `Value`s carry their shape (numbers, or symbolic names such as
 * 'N', 'H/8' for dimensions that vary per call) so builders can assert invariants and comment reshapes.
 * Parameters are declared by checkpoint key and shape only; their bytes are bound when the graph is serialised.
 */

export type Dim = number | string;
export type Shape = readonly Dim[];
export type DataType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'int8' | 'uint8';

export type AttributeValue = number | string | readonly number[] | readonly string[] | { float: number } | { floats: readonly number[] };

export interface NodeSpec {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

export interface ConstantSpec {
  readonly name: string;
  readonly dtype: DataType;
  readonly dims: readonly number[];
  readonly values: readonly number[] | Float32Array;
}

export interface ParamSpec {
  readonly name: string;
  readonly dims: readonly number[];
  /**
   * float32 unless a graph pass changed it: int8 weights of onnx/quantize.ts, float16 session inputs of
   * onnx/float16-fed.ts (fed parameters only: never written as initializers).
   */
  readonly dtype?: 'float32' | 'int8' | 'float16';
}

export class Value {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly shape: Shape,
    readonly dtype: DataType = 'float32',
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** Static size of axis `axis` (negative counts from the end); throws if it is symbolic. */
  dim(axis: number): number {
    const d = this.shape[axis < 0 ? this.shape.length + axis : axis];
    if (typeof d !== 'number') throw new Error(`${this.name}: axis ${axis} is symbolic (${String(d)}) in [${this.shape.join(', ')}]`);
    return d;
  }
}

export class Graph {
  readonly nodes: NodeSpec[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly params = new Map<string, ParamSpec>();
  readonly constants: ConstantSpec[] = [];
  /** Every value by name (inputs, parameters, constants, node outputs): shapes for analyses such as FLOP counts. */
  readonly values = new Map<string, Value>();
  private counter = 0;
  private scopes: string[] = [];

  constructor(readonly name: string) {}

  input(name: string, shape: Shape, dtype: DataType = 'float32'): Value {
    const value = new Value(this, name, shape, dtype);
    this.inputs.push(value);
    this.values.set(name, value);
    return value;
  }

  /** Marks `value` as a graph output under `name` (through an Identity so any value can be an output). */
  output(value: Value, name: string): void {
    this.nodes.push({ opType: 'Identity', domain: '', name: `output/${name}`, inputs: [value.name], outputs: [name], attributes: {} });
    this.outputs.push(new Value(this, name, value.shape, value.dtype));
  }

  /** A learned weight named by its checkpoint key; declaring it twice with other dims is a builder bug. */
  param(name: string, dims: readonly number[], dtype: 'float32' | 'int8' = 'float32'): Value {
    const existing = this.params.get(name);
    if (existing && existing.dims.join() !== dims.join()) {
      throw new Error(`parameter ${name} declared as [${existing.dims}] and as [${dims}]`);
    }
    if (!existing) this.params.set(name, dtype === 'float32' ? { name, dims: [...dims] } : { name, dims: [...dims], dtype });
    const value = new Value(this, name, dims, dtype);
    this.values.set(name, value);
    return value;
  }

  constant(values: readonly number[] | Float32Array, dims: readonly number[], dtype: DataType = 'float32'): Value {
    const name = this.uniqueName('const');
    this.constants.push({ name, dtype, dims: [...dims], values });
    const value = new Value(this, name, dims, dtype);
    this.values.set(name, value);
    return value;
  }

  /** Adds one node; `outputs` gives the shape (and optionally dtype) of each output. */
  node(
    opType: string,
    inputs: readonly (Value | null)[],
    attributes: Record<string, AttributeValue>,
    outputs: readonly (Shape | { shape: Shape; dtype: DataType })[],
    domain = '',
  ): Value[] {
    const name = this.uniqueName(opType);
    const values = outputs.map((o, i) => {
      const spec = Array.isArray(o) ? { shape: o as Shape, dtype: 'float32' as DataType } : (o as { shape: Shape; dtype: DataType });
      return new Value(this, outputs.length === 1 ? name : `${name}:${i}`, spec.shape, spec.dtype);
    });
    this.nodes.push({ opType, domain, name, inputs: inputs.map((v) => v?.name ?? ''), outputs: values.map((v) => v.name), attributes });
    for (const value of values) this.values.set(value.name, value);
    return values;
  }

  /** Runs `fn` with node names prefixed by `scope` (mirrors the module path, for readable profiles). */
  scoped<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  private uniqueName(base: string): string {
    const prefix = this.scopes.length > 0 ? `${this.scopes[this.scopes.length - 1]}/` : '';
    return `${prefix}${base}_${this.counter++}`;
  }
}
