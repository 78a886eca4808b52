/**
 * Serialises a `Graph` to ONNX ModelProto bytes (protobufjs through `onnx-proto`). Parameter bytes come from
 * a `WeightSource` at this point, never earlier. Weights go inline (`raw_data`) for small models, or into an
 * external-data file beside the model (ONNX external data: location/offset/length) for models over the
 * 2 GB protobuf limit.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import type { AttributeValue, ConstantSpec, DataType, Graph, NodeSpec, Shape } from './graph.ts';

const { onnx } = onnxProto;

export const OPSET = 17;

/** Returns a declared parameter's values (float32, or int8 for int8 params); it must check the dims against the checkpoint. */
export type WeightSource = (name: string, dims: readonly number[]) => Float32Array | Int8Array;

export interface SerializeOptions {
  weights: WeightSource;
  /** When set, every parameter is written to this file (and referenced by its base name `location`). */
  externalData?: { path: string; location: string };
  /**
   * Parameters declared as graph inputs instead of initializers, so every run feeds them (LoRA-merged weights
   * reach an existing session this way). ORT's overridable initializers (an input with an initializer of the
   * same name) would keep a default, but onnxruntime-node only feeds `inputNames`, which excludes them.
   */
  fedParams?: ReadonlySet<string>;
}

const ELEM_TYPE: Record<DataType, number> = { float32: 1, float16: 10, int64: 7, int32: 6, bool: 9, int8: 3, uint8: 2 };

export function serializeModel(graph: Graph, options: SerializeOptions): Uint8Array {
  const fed = options.fedParams ?? new Set<string>();
  const initializers = [...graph.constants.map(constantTensor), ...paramTensors(graph, options)];
  const fedInputs = [...graph.params.values()].filter((p) => fed.has(p.name)).map((p) => valueInfo(p.name, p.dims, p.dtype ?? 'float32'));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'sdapi',
    opsetImport: [
      { domain: '', version: OPSET },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: graph.name,
      node: graph.nodes.map(nodeProto),
      initializer: initializers,
      input: [...graph.inputs.map((v) => valueInfo(v.name, v.shape, v.dtype)), ...fedInputs],
      output: graph.outputs.map((v) => valueInfo(v.name, v.shape, v.dtype)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function paramTensors(graph: Graph, { weights, externalData, fedParams }: SerializeOptions): object[] {
  const params = [...graph.params.values()].filter((p) => !fedParams?.has(p.name));
  const half = params.find((p) => p.dtype === 'float16');
  if (half) throw new Error(`${graph.name}: ${half.name} is a float16 session input (onnx/float16-fed.ts) but not among the fed parameters`);
  if (!externalData) {
    return params.map((p) => ({ name: p.name, dataType: ELEM_TYPE[p.dtype ?? 'float32'], dims: p.dims, rawData: bytesOf(weights(p.name, p.dims)) }));
  }
  const fd = openSync(externalData.path, 'w');
  try {
    let offset = 0;
    return params.map((p) => {
      const bytes = bytesOf(weights(p.name, p.dims));
      writeSync(fd, bytes);
      const entry = {
        name: p.name,
        dataType: ELEM_TYPE[p.dtype ?? 'float32'],
        dims: p.dims,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: externalData.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      };
      offset += bytes.length;
      return entry;
    });
  } finally {
    closeSync(fd);
  }
}

function bytesOf(values: Float32Array | Int8Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function constantTensor(c: ConstantSpec): object {
  const base = { name: c.name, dataType: ELEM_TYPE[c.dtype], dims: c.dims };
  if (c.dtype === 'float32') return { ...base, floatData: Array.from(c.values) };
  if (c.dtype === 'int64') return { ...base, int64Data: Array.from(c.values) };
  return { ...base, int32Data: Array.from(c.values) };
}

function nodeProto(n: NodeSpec): object {
  return {
    opType: n.opType,
    domain: n.domain,
    name: n.name,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attributes).map(([name, value]) => attributeProto(name, value)),
  };
}

function attributeProto(name: string, value: AttributeValue): object {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}=${value}: use { float } for float attributes`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if (value.every((v) => typeof v === 'number')) return { name, type: AttributeType.INTS, ints: value as number[] };
  return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
}

function valueInfo(name: string, shape: Shape, dtype: DataType): object {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEM_TYPE[dtype], shape: { dim } } } };
}
