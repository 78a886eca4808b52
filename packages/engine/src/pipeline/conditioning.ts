/**
 * Prompt text → UNet context, wiring the text layer (A1111's prompt language, spec §6) to the text encoder
 * the way A1111's `prompt_parser.get_learned_conditioning` does: each distinct prompt is expanded into its
 * prompt-editing schedule, the schedule's texts are chunked (emphasis, BREAK, comma back-tracking) and
 * encoded together (emphasis restores the mean over that batch), giving one context per schedule entry.
 * `AND` splits a prompt into weighted parts, each conditioned the same way (composable diffusion).
 * SDXL (sd_models_xl.get_learned_conditioning): every encoder sees the same chunks, their outputs are
 * concatenated along the width, and each entry also gets the `vector` (pooled text + micro-conditioning);
 * an all-empty negative prompt is zeroed (sgm `force_zero_embeddings=['txt']`).
 */
import type { ChunkTokenizer, EmbeddingTokenIndex, EmphasisMode, PromptChunk } from '../text/conditioning.ts';
import { CLIPTokenizer } from '../text/clip-tokenizer.ts';
import { applyEmphasis, batchChunks, padAfterFirstEos } from '../text/conditioning.ts';
import { getMulticondPromptList } from '../text/prompt-parser.ts';
import { getPromptSchedules } from '../text/prompt-schedules.ts';
import { Tensor } from '../tensor.ts';
import type { LoadedModel, TokenFixes } from './model.ts';
import { DEFAULT_SDXL_MICRO_CONDITIONING, type SdxlMicroConditioning, sdxlVector, usesVectorConditioning } from './sdxl-conditioning.ts';
import { selectHiddenState, TEXT_ENCODER_ROLES } from './text-encoders.ts';
import { type TextualInversion, tiHashes } from './textual-inversion.ts';

/** A context [L, C] (and for SDXL the vector [adm]) in force up to and including model call `endAtStep`. */
export interface ScheduledCond {
  endAtStep: number;
  cond: Tensor;
  vector?: Tensor;
}

export type CondSchedule = ScheduledCond[];

/** One image's positive conditioning: its AND parts with their weights. */
export interface MultiCond {
  parts: { schedule: CondSchedule; weight: number }[];
}

export interface TextOptions {
  clipSkip: number;
  emphasis: EmphasisMode;
  commaPaddingBacktrack: number;
  /** A1111 option `sdxl_clip_l_skip` (default false). */
  sdxlClipLSkip?: boolean;
  /** SDXL size/crop/aesthetic inputs (default: A1111's 1024² fallback, crop 0,0, scores 6.0/2.5). */
  micro?: SdxlMicroConditioning;
  /** Textual-inversion embeddings the prompts may name (pipeline/textual-inversion.ts activeEmbeddings().index). */
  embeddings?: EmbeddingTokenIndex<TextualInversion>;
}

/** One text's encoding: context [77·k, C] and the pooled feature of its first chunk (SDXL), else null. */
interface EncodedText {
  cond: Tensor;
  pooled: Float32Array | null;
}

export class TextConditioner {
  private readonly cache = new Map<string, Promise<CondSchedule>>();
  /** Embeddings met while encoding, positive and negative prompts apart (for the infotext's order). */
  private readonly used = { cond: new Set<TextualInversion>(), uncond: new Set<TextualInversion>() };
  /** Whether an encoded text had emphasis brackets (A1111 writes `Emphasis` only then). */
  private bracketed = false;

  constructor(private readonly model: LoadedModel, private readonly options: TextOptions, private readonly steps: number) {}

  /** A1111 get_learned_conditioning for one prompt (cached by text); `negative` matters for SDXL only. */
  schedule(prompt: string, negative = false): Promise<CondSchedule> {
    const key = `${negative ? 'n' : 'p'}:${prompt}`;
    let cached = this.cache.get(key);
    if (!cached) {
      cached = this.encodeSchedule(prompt, negative);
      this.cache.set(key, cached);
    }
    return cached;
  }

  /** A1111 get_multicond_learned_conditioning: per prompt, its AND parts. */
  async multicond(prompts: readonly string[]): Promise<MultiCond[]> {
    const { indexes, flatPrompts } = getMulticondPromptList(prompts);
    const schedules = await Promise.all(flatPrompts.map((p) => this.schedule(p)));
    return indexes.map((parts) => ({ parts: parts.map(([index, weight]) => ({ schedule: schedules[index], weight })) }));
  }

  /**
   * The infotext keys the text side adds (A1111's hijack `extra_generation_params`): `Emphasis` when a prompt had
   * brackets under a non-default mode, `TI hashes` (option textual_inversion_add_hashes_to_infotext) of the
   * embeddings used, positive prompt's first as A1111 prepends later passes.
   */
  infotextParams(addTiHashes = true): Record<string, string> {
    const params: Record<string, string> = {};
    if (this.bracketed && this.options.emphasis !== 'Original') params.Emphasis = this.options.emphasis;
    const hashes = addTiHashes ? tiHashes([...this.used.cond, ...this.used.uncond]) : null;
    if (hashes !== null) params['TI hashes'] = hashes;
    return params;
  }

  private async encodeSchedule(prompt: string, negative: boolean): Promise<CondSchedule> {
    const [entries] = getPromptSchedules([prompt], this.steps);
    const texts = entries.map(([, text]) => text);
    const encoded = await this.encodeTexts(texts, negative ? this.used.uncond : this.used.cond);
    if (!usesVectorConditioning(this.model.config)) return entries.map(([endAtStep], i) => ({ endAtStep, cond: encoded[i].cond }));
    const zero = negative && texts.every((t) => t === ''); // A1111: an empty negative prompt conditions on zeros
    const micro = this.options.micro ?? DEFAULT_SDXL_MICRO_CONDITIONING;
    return entries.map(([endAtStep], i) => {
      const { cond, pooled } = encoded[i];
      const pooledIn = zero ? new Float32Array((pooled as Float32Array).length) : (pooled as Float32Array);
      return { endAtStep, cond: zero ? new Tensor(cond.shape) : cond, vector: sdxlVector(this.model.config, pooledIn, micro, negative) };
    });
  }

  /**
   * Encodes texts as one batch: chunk k of every text together, emphasis per chunk batch; → [77·k, C] each.
   * Embeddings the chunks name are added to `used`.
   */
  private async encodeTexts(texts: readonly string[], used: Set<TextualInversion>): Promise<EncodedText[]> {
    const { emphasis, commaPaddingBacktrack, embeddings } = this.options;
    const tokenizer = CLIPTokenizer.load();
    if (texts.some((t) => t.includes('(') || t.includes('['))) this.bracketed = true;
    const { chunks } = batchChunks(texts, tokenizer, { emphasis, commaPaddingBacktrack, embeddings });
    const perChunk: Tensor[] = [];
    let pooled: Tensor | null = null;
    for (const [k, batch] of chunks.entries()) {
      for (const fix of batch.flatMap((c) => c.fixes)) used.add(fix.embedding);
      const encoded = await this.encodeChunk(batch, tokenizer);
      perChunk.push(encoded.z);
      if (k === 0) pooled = encoded.pooled; // A1111 keeps the first chunk's pooled output
    }
    const [, , width] = perChunk[0].shape;
    return texts.map((_, b) => ({
      cond: Tensor.cat(perChunk.map((z) => z.get(b))).reshape([77 * perChunk.length, width]),
      pooled: pooled ? pooled.get(b).data.slice() : null,
    }));
  }

  /** One chunk batch through every text encoder (emphasis applied per encoder), widths concatenated → [T, 77, ΣC]. */
  private async encodeChunk(batch: readonly PromptChunk<TextualInversion>[], tokenizer: ChunkTokenizer): Promise<{ z: Tensor; pooled: Tensor | null }> {
    const { clipSkip, emphasis, sdxlClipLSkip = false } = this.options;
    const multipliers = batch.flatMap((c) => c.multipliers);
    const zs: Tensor[] = [];
    let pooled: Tensor | null = null;
    for (const [i, role] of TEXT_ENCODER_ROLES[this.model.config.family].entries()) {
      const ids = batch.map((c) => (role.padAfterEos === null ? c.tokens : padAfterFirstEos(c.tokens, tokenizer.eosId, role.padAfterEos)));
      const out = await this.model.encodeText(i, ids, tokenFixes(batch, i, this.model.config.text_encoders[i].hidden_size));
      const z = selectHiddenState(out, role, { clipSkip, sdxlClipLSkip }); // [T, 77, C_i]
      zs.push(new Tensor(z.shape, applyEmphasis(emphasis, z.data, multipliers)));
      if (role.pooled) pooled = out.pooled;
    }
    return { z: concatWidths(zs), pooled };
  }
}

/**
 * A1111 `EmbeddingsWithFixes`: each fix's vectors for encoder `encoder` replace the token vectors from position
 * `offset + 1` (after BOS), as many as fit before the end of the 77 tokens. Undefined when the batch has no fixes.
 */
function tokenFixes(batch: readonly PromptChunk<TextualInversion>[], encoder: number, width: number): TokenFixes | undefined {
  if (batch.every((chunk) => chunk.fixes.length === 0)) return undefined;
  const length = 77;
  const rows = new Float32Array(batch.length * length * width);
  const mask = new Float32Array(batch.length * length);
  batch.forEach((chunk, b) => {
    for (const { offset, embedding } of chunk.fixes) {
      const count = Math.min(length - offset - 1, embedding.vectors);
      const start = b * length + offset + 1;
      rows.set(embedding.rows[encoder].subarray(0, count * width), start * width);
      mask.fill(1, start, start + count);
    }
  });
  return { rows, mask };
}

/** torch.cat(zs, dim=-1) for [T, L, C_i] tensors. */
function concatWidths(zs: readonly Tensor[]): Tensor {
  if (zs.length === 1) return zs[0];
  const [t, l] = zs[0].shape;
  const widths = zs.map((z) => z.shape[2]);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(t * l * total);
  for (let row = 0; row < t * l; row++) {
    let offset = row * total;
    zs.forEach((z, i) => {
      out.set(z.data.subarray(row * widths[i], (row + 1) * widths[i]), offset);
      offset += widths[i];
    });
  }
  return new Tensor([t, l, total], out);
}

/** The schedule entry in force at model call `step` (A1111 reconstruct_cond_batch: first with step ≤ end). */
export function entryAt(schedule: CondSchedule, step: number): ScheduledCond {
  return schedule.find((entry) => step <= entry.endAtStep) ?? schedule[0];
}

/** The context of the entry in force at model call `step`. */
export function condAt(schedule: CondSchedule, step: number): Tensor {
  return entryAt(schedule, step).cond;
}

/**
 * Stacks contexts [L_i, C] into [N, max L, C], padding shorter ones by repeating their last vector
 * (A1111 stack_conds, and its cond/uncond length equalisation).
 */
export function stackConds(conds: readonly Tensor[], minLength = 0): Tensor {
  const width = conds[0].shape[1];
  const length = Math.max(minLength, ...conds.map((c) => c.shape[0]));
  const out = new Float32Array(conds.length * length * width);
  conds.forEach((c, i) => {
    const rows = c.shape[0];
    out.set(c.data, i * length * width);
    const last = c.data.subarray((rows - 1) * width, rows * width);
    for (let r = rows; r < length; r++) out.set(last, (i * length + r) * width);
  });
  return new Tensor([conds.length, length, width], out);
}
