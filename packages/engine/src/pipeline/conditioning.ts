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
import type { ChunkTokenizer, EmphasisMode, PromptChunk } from '../text/conditioning.ts';
import { CLIPTokenizer } from '../text/clip-tokenizer.ts';
import { applyEmphasis, batchChunks, padAfterFirstEos } from '../text/conditioning.ts';
import { getMulticondPromptList } from '../text/prompt-parser.ts';
import { getPromptSchedules } from '../text/prompt-schedules.ts';
import { Tensor } from '../tensor.ts';
import type { LoadedModel } from './model.ts';
import { DEFAULT_SDXL_MICRO_CONDITIONING, type SdxlMicroConditioning, sdxlVector, usesVectorConditioning } from './sdxl-conditioning.ts';
import { selectHiddenState, TEXT_ENCODER_ROLES } from './text-encoders.ts';

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
}

/** One text's encoding: context [77·k, C] and the pooled feature of its first chunk (SDXL), else null. */
interface EncodedText {
  cond: Tensor;
  pooled: Float32Array | null;
}

export class TextConditioner {
  private readonly cache = new Map<string, Promise<CondSchedule>>();

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

  private async encodeSchedule(prompt: string, negative: boolean): Promise<CondSchedule> {
    const [entries] = getPromptSchedules([prompt], this.steps);
    const texts = entries.map(([, text]) => text);
    const encoded = await this.encodeTexts(texts);
    if (!usesVectorConditioning(this.model.config)) return entries.map(([endAtStep], i) => ({ endAtStep, cond: encoded[i].cond }));
    const zero = negative && texts.every((t) => t === ''); // A1111: an empty negative prompt conditions on zeros
    const micro = this.options.micro ?? DEFAULT_SDXL_MICRO_CONDITIONING;
    return entries.map(([endAtStep], i) => {
      const { cond, pooled } = encoded[i];
      const pooledIn = zero ? new Float32Array((pooled as Float32Array).length) : (pooled as Float32Array);
      return { endAtStep, cond: zero ? new Tensor(cond.shape) : cond, vector: sdxlVector(this.model.config, pooledIn, micro, negative) };
    });
  }

  /** Encodes texts as one batch: chunk k of every text together, emphasis per chunk batch; → [77·k, C] each. */
  private async encodeTexts(texts: readonly string[]): Promise<EncodedText[]> {
    const { emphasis, commaPaddingBacktrack } = this.options;
    const tokenizer = CLIPTokenizer.load();
    const { chunks } = batchChunks(texts, tokenizer, { emphasis, commaPaddingBacktrack });
    const perChunk: Tensor[] = [];
    let pooled: Tensor | null = null;
    for (const [k, batch] of chunks.entries()) {
      // TODO(issue 4): splice textual-inversion vectors (batch[b].fixes) into the token embeddings.
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
  private async encodeChunk(batch: readonly PromptChunk[], tokenizer: ChunkTokenizer): Promise<{ z: Tensor; pooled: Tensor | null }> {
    const { clipSkip, emphasis, sdxlClipLSkip = false } = this.options;
    const multipliers = batch.flatMap((c) => c.multipliers);
    const zs: Tensor[] = [];
    let pooled: Tensor | null = null;
    for (const [i, role] of TEXT_ENCODER_ROLES[this.model.config.family].entries()) {
      const ids = batch.map((c) => (role.padAfterEos === null ? c.tokens : padAfterFirstEos(c.tokens, tokenizer.eosId, role.padAfterEos)));
      const out = await this.model.encodeText(i, ids);
      const z = selectHiddenState(out, role, { clipSkip, sdxlClipLSkip }); // [T, 77, C_i]
      zs.push(new Tensor(z.shape, applyEmphasis(emphasis, z.data, multipliers)));
      if (role.pooled) pooled = out.pooled;
    }
    return { z: concatWidths(zs), pooled };
  }
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
