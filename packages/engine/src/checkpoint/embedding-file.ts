/**
 * Textual-inversion embedding files in `.safetensors` form (spec §6.9). The layouts A1111 accepts, as seen in
 * its loader's behaviour: a `string_to_param.<token>` tensor (the original TI trainer's dict, flattened by the
 * safetensors conversion), a single tensor under any name (`emb_params` from kohya's trainer, diffusers
 * concepts such as `<cat-toy>`), and SDXL's `clip_l` + `clip_g` pair. Vectors are [vectors, width] float32;
 * a 1-D tensor is one vector. Pickled `.pt`/`.bin` files are never read (pipeline/embedding-database.ts lists them).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CheckpointError } from '../errors.ts';
import { Tensor } from '../tensor.ts';
import { SafetensorsFile } from './safetensors.ts';

/** An embedding's vectors and the metadata GET /embeddings reports. */
export interface EmbeddingVectors {
  /** `''` for a single-tensor embedding; `clip_l` / `clip_g` for SDXL. Each [vectors, width]. */
  tensors: ReadonlyMap<string, Tensor>;
  /** Number of vectors (rows); for SDXL the `clip_g` rows, as A1111 counts. */
  vectors: number;
  /** Total width: one tensor's width, or clip_l + clip_g (768 + 1280 = 2048). */
  shape: number;
  /** Training metadata; safetensors conversions rarely keep it (then null, as A1111 reports). */
  step: number | null;
  sdCheckpoint: string | null;
  sdCheckpointName: string | null;
  /** SHA-256 of the whole file (hex); infotext `TI hashes` use its first 12 digits (spec §9.2). */
  sha256: string;
}

const SDXL_KEYS = ['clip_l', 'clip_g'] as const;

/**
 * Reads an embedding from a `.safetensors` file; throws CheckpointError with the reason when the file is not one
 * (several terms, no tensors, a non-float tensor, clip_l/clip_g of different lengths).
 */
export function readEmbeddingSafetensors(path: string): EmbeddingVectors {
  const file = SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, Tensor>();
    for (const [key, name] of pickTensors(file)) tensors.set(key, asMatrix(file, name));
    const [first, ...rest] = [...tensors.values()];
    const rows = tensors.get('clip_g')?.shape[0] ?? first.shape[0];
    if (rest.length > 0 && tensors.get('clip_l')?.shape[0] !== rows) {
      throw new CheckpointError(
        path,
        `clip_l has ${tensors.get('clip_l')?.shape[0]} vectors but clip_g has ${rows}; an SDXL embedding needs the same number in both`,
      );
    }
    if (rows === 0) throw new CheckpointError(path, 'the embedding has no vectors');
    const meta = file.metadata;
    const step = meta.step !== undefined && Number.isInteger(Number(meta.step)) ? Number(meta.step) : null;
    return {
      tensors,
      vectors: rows,
      shape: [...tensors.values()].reduce((sum, t) => sum + t.shape[1], 0),
      step,
      sdCheckpoint: meta.sd_checkpoint ?? null,
      sdCheckpointName: meta.sd_checkpoint_name ?? null,
      sha256: createHash('sha256').update(readFileSync(path)).digest('hex'),
    };
  } finally {
    file.close();
  }
}

/** [key in EmbeddingVectors.tensors, tensor name in the file] for the layout the file is in. */
function pickTensors(file: SafetensorsFile): [string, string][] {
  const names = file.keys();
  const params = names.filter((n) => n.startsWith('string_to_param.'));
  if (params.length > 1) throw new CheckpointError(file.path, `embedding file has multiple terms in it (${params.join(', ')})`);
  if (params.length === 1) return [['', params[0]]];
  if (SDXL_KEYS.every((k) => names.includes(k))) return SDXL_KEYS.map((k) => [k, k]);
  if (names.length === 1) return [['', names[0]]];
  if (names.length === 0) throw new CheckpointError(file.path, 'has no tensors, so it is not an embedding');
  throw new CheckpointError(
    file.path,
    `embedding file has multiple terms in it (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}); expected one tensor, string_to_param.*, or clip_l + clip_g`,
  );
}

/** A float tensor as [vectors, width]: 1-D is one vector. */
function asMatrix(file: SafetensorsFile, name: string): Tensor {
  const { dtype, shape } = file.info(name);
  if (!['F32', 'F16', 'BF16', 'F64'].includes(dtype)) throw new CheckpointError(file.path, `tensor '${name}' is ${dtype}, not a float tensor`);
  if (shape.length === 0 || shape.length > 2)
    throw new CheckpointError(file.path, `tensor '${name}' has shape [${shape.join(', ')}]; embeddings are [vectors, width] or [width]`);
  const matrix = shape.length === 1 ? [1, shape[0]] : [...shape];
  return new Tensor(matrix, file.readFloat32(name));
}
