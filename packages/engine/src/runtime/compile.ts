/**
 * Graph + checkpoint → onnxruntime session. Weights are read from the safetensors file (F16/BF16 widened to
 * float32) only here. Small models are handed to ORT as one in-memory buffer; models whose weights exceed the
 * protobuf limit are written once as model.onnx + external data under a cache directory keyed by graph and
 * checkpoint, and loaded from there on later runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import type { Graph } from '../onnx/graph.ts';
import { serializeModel, type WeightSource } from '../onnx/proto.ts';
import { OrtSession, type SessionOptions } from './ort.ts';

/** Above this many weight bytes the model goes through external data on disk (protobuf caps at 2 GiB). */
const INLINE_LIMIT_BYTES = 1.5 * 1024 ** 3;

export interface CompileOptions extends SessionOptions {
  /** Where large models are materialised; required for them. */
  cacheDir?: string;
  /** Renames graph parameters to checkpoint keys (e.g. a shared graph over several key layouts). */
  keyOf?: (param: string) => string;
  /**
   * Parameters declared as graph inputs instead of initializers (serializeModel `fedParams`): every run must
   * feed them. This is how LoRA-merged weights reach an existing session (see runtime/fed-weights.ts).
   */
  fedParams?: ReadonlySet<string>;
}

/** Reads each declared parameter from `file`, checking its shape against the declaration. */
export function checkpointWeights(file: SafetensorsFile, keyOf: (p: string) => string = (p) => p): WeightSource {
  return (name, dims) => {
    const key = keyOf(name);
    if (!file.has(key)) throw new CheckpointError(file.path, `is missing tensor '${key}' that the detected architecture needs`);
    const info = file.info(key);
    const expected = dims.reduce((a, b) => a * b, 1);
    const actual = info.shape.reduce((a, b) => a * b, 1);
    if (expected !== actual) {
      throw new CheckpointError(file.path, `tensor '${key}' has shape [${info.shape.join(', ')}] but the graph expects [${dims.join(', ')}]`);
    }
    return file.readFloat32(key);
  };
}

/** Bytes of the weights stored in the model (fed parameters are not). */
export function weightBytes(graph: Graph, fedParams?: ReadonlySet<string>): number {
  let total = 0;
  for (const p of graph.params.values()) if (!fedParams?.has(p.name)) total += 4 * p.dims.reduce((a, b) => a * b, 1);
  return total;
}

export async function compileGraph(graph: Graph, file: SafetensorsFile, options: CompileOptions = {}): Promise<OrtSession> {
  const weights = checkpointWeights(file, options.keyOf);
  const { fedParams } = options;
  const bytes = weightBytes(graph, fedParams);
  if (bytes <= INLINE_LIMIT_BYTES) {
    return OrtSession.create(serializeModel(graph, { weights, fedParams }), options);
  }
  if (!options.cacheDir) throw new Error(`${graph.name}: ${bytes} bytes of weights need a cacheDir for external data`);
  const dir = join(options.cacheDir, `${graph.name}-${cacheKey(graph, file, fedParams)}`);
  const modelPath = join(dir, 'model.onnx');
  if (!existsSync(modelPath)) materialise(graph, weights, dir, fedParams);
  return OrtSession.create(modelPath, options);
}

/** Writes model.onnx + weights.bin into `dir` atomically (a half-written cache entry is never used). */
function materialise(graph: Graph, weights: WeightSource, dir: string, fedParams?: ReadonlySet<string>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const bytes = serializeModel(graph, { weights, fedParams, externalData: { path: join(tmp, 'weights.bin'), location: 'weights.bin' } });
  writeFileSync(join(tmp, 'model.onnx'), bytes);
  renameSync(tmp, dir);
}

/** Hash of the graph structure (fed parameters included) plus the checkpoint's identity (path, size, mtime). */
function cacheKey(graph: Graph, file: SafetensorsFile, fedParams?: ReadonlySet<string>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(graph.nodes));
  hash.update(JSON.stringify([...graph.params.values()]));
  if (fedParams && fedParams.size > 0) hash.update(JSON.stringify([...fedParams].sort()));
  const stat = statSync(file.path);
  hash.update(`${file.path}|${stat.size}|${stat.mtimeMs}`);
  return hash.digest('hex').slice(0, 16);
}
