/**
 * Graph + checkpoint → onnxruntime session. Weights are read from the safetensors file (F16/BF16 widened to
 * float32) only here. With a cache directory (the server and CLI always give one), the first session of a graph
 * saves ORT's optimised model there, keyed by graph, checkpoint, ORT version and CPU, and later sessions load it
 * without optimising again. Without one, the model is handed to ORT as one in-memory buffer (tests, small models).
 * Each new entry is followed by a sweep of the folder (runtime/onnx-cache.ts: stale entries, then a size cap).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, join } from 'node:path';
import type { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { CheckpointError } from '../errors.ts';
import { feedAsFloat16 } from '../onnx/float16-fed.ts';
import type { Graph } from '../onnx/graph.ts';
import { serializeModel, type WeightSource } from '../onnx/proto.ts';
import { type Int8Plan, quantizeConvs, quantizedWeights, quantizeLinears } from '../onnx/quantize.ts';
import { sweepOnnxCache, tmpEntryDir, touchEntry, writeEntryMeta } from './onnx-cache.ts';
import { ORT_VERSION, OrtSession, type SessionOptions } from './ort.ts';

/** Above this many weight bytes the model goes through external data on disk (protobuf caps at 2 GiB). */
const INLINE_LIMIT_BYTES = 1.5 * 1024 ** 3;

export interface CompileOptions extends SessionOptions {
  /** Where large models are materialised; required for them. */
  cacheDir?: string;
  /** The cache folder's size cap (runtime/onnx-cache.ts; default DEFAULT_CACHE_MAX_BYTES), kept after each new entry. */
  cacheMaxBytes?: number;
  /** Renames graph parameters to checkpoint keys (e.g. a shared graph over several key layouts). */
  keyOf?: (param: string) => string;
  /**
   * Parameters declared as graph inputs instead of initializers (serializeModel `fedParams`): every run must
   * feed them. This is how LoRA-merged weights reach an existing session (see runtime/fed-weights.ts).
   */
  fedParams?: ReadonlySet<string>;
  /** Fed parameters the session takes as float16 and widens itself (onnx/float16-fed.ts): a subset of `fedParams`. */
  float16Fed?: ReadonlySet<string>;
  /** 'int8': Linear and convolution weights stored as int8 (onnx/quantize.ts; rewrites `graph`). Fed parameters stay float32. */
  quantize?: 'int8';
}

/** Reads each declared parameter from `file`, checking its shape against the declaration. */
export function checkpointWeights(file: SafetensorsFile, keyOf: (p: string) => string = (p) => p): (name: string, dims: readonly number[]) => Float32Array {
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
  for (const p of graph.params.values()) if (!fedParams?.has(p.name)) total += (p.dtype === 'int8' ? 1 : 4) * p.dims.reduce((a, b) => a * b, 1);
  return total;
}

export async function compileGraph(graph: Graph, file: SafetensorsFile, options: CompileOptions = {}): Promise<OrtSession> {
  const { fedParams } = options;
  let weights: WeightSource = checkpointWeights(file, options.keyOf);
  if (options.float16Fed && options.float16Fed.size > 0) {
    const stray = [...options.float16Fed].find((name) => !fedParams?.has(name));
    if (stray) throw new Error(`${graph.name}: ${stray} is to be fed as float16 but is not a fed parameter`);
    feedAsFloat16(graph, options.float16Fed);
  }
  if (options.quantize === 'int8') {
    const plan: Int8Plan = new Map();
    quantizeLinears(graph, fedParams, plan);
    quantizeConvs(graph, fedParams, plan);
    weights = quantizedWeights(plan, weights);
  }
  const bytes = weightBytes(graph, fedParams);
  if (!options.cacheDir) {
    if (bytes > INLINE_LIMIT_BYTES) throw new Error(`${graph.name}: ${bytes} bytes of weights need a cacheDir for external data`);
    return OrtSession.create(serializeModel(graph, { weights, fedParams }), options);
  }
  const dir = join(options.cacheDir, `${graph.name}-${cacheKey(graph, file, fedParams)}`);
  const optimised = join(dir, 'model.onnx');
  // A warm start: ORT's own optimised graph, loaded without running the optimiser again (≈1 s instead of ≈10 s
  // for an SD1.5 UNet on 2 cores; `npm run bench` case sessions-sd15-warm).
  if (existsSync(optimised)) {
    touchEntry(dir);
    return OrtSession.create(optimised, { ...options, optimizationLevel: 'disabled' });
  }
  const session = await optimiseInto(dir, graph, file.path, weights, bytes, options);
  try {
    sweepOnnxCache(options.cacheDir, { maxBytes: options.cacheMaxBytes, keep: new Set([basename(dir)]) });
  } catch (error) {
    process.emitWarning(`ONNX cache sweep of ${options.cacheDir} failed: ${(error as Error).message}`);
  }
  return session;
}

/**
 * First use: build the session from our graph, letting ORT write its optimised model (fused ops, folded weight
 * transposes, NCHWc layouts) to `dir` as model.onnx + weights.bin. The entry appears atomically (written under a
 * temporary name, then renamed), so a crash never leaves a half-written entry that a later start would trust.
 */
async function optimiseInto(
  dir: string,
  graph: Graph,
  checkpointPath: string,
  weights: WeightSource,
  bytes: number,
  options: CompileOptions,
): Promise<OrtSession> {
  const tmp = tmpEntryDir(dir);
  const sourceDir = join(tmp, 'source');
  mkdirSync(sourceDir, { recursive: true });
  try {
    writeEntryMeta(tmp, graph.name, checkpointPath);
    const { fedParams } = options;
    // Weights past protobuf's limit go through external data on disk; the source copy is dropped once optimised.
    const source = bytes <= INLINE_LIMIT_BYTES ? serializeModel(graph, { weights, fedParams }) : writeModel(graph, weights, sourceDir, fedParams);
    const session = await OrtSession.create(source, { ...options, optimizedModelPath: join(tmp, 'model.onnx') });
    rmSync(sourceDir, { recursive: true, force: true });
    if (existsSync(dir))
      rmSync(tmp, { recursive: true, force: true }); // another process finished first
    else renameSync(tmp, dir);
    return session;
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Writes model.onnx + weights.bin (external data) into `dir`; returns the model path. */
function writeModel(graph: Graph, weights: WeightSource, dir: string, fedParams?: ReadonlySet<string>): string {
  const bytes = serializeModel(graph, { weights, fedParams, externalData: { path: join(dir, 'weights.bin'), location: 'weights.bin' } });
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, bytes);
  return modelPath;
}

/**
 * Hash of the graph structure (fed parameters included), the checkpoint's identity (path, size, mtime), and what
 * an optimised model depends on besides: the ORT version and the CPU (NCHWc blocking follows its vector width).
 */
function cacheKey(graph: Graph, file: SafetensorsFile, fedParams?: ReadonlySet<string>): string {
  const hash = createHash('sha256');
  hash.update('ort-optimised-v1');
  hash.update(JSON.stringify(graph.nodes));
  hash.update(JSON.stringify([...graph.params.values()]));
  if (fedParams && fedParams.size > 0) hash.update(JSON.stringify([...fedParams].sort()));
  const stat = statSync(file.path);
  hash.update(`${file.path}|${stat.size}|${stat.mtimeMs}`);
  hash.update(`${ORT_VERSION}|${process.arch}|${cpus()[0]?.model ?? ''}`);
  return hash.digest('hex').slice(0, 16);
}
