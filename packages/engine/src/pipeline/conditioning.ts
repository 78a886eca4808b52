/**
 * Prompt text → UNet context, wiring the text layer (A1111's prompt language, spec §6) to the text encoder
 * the way A1111's `prompt_parser.get_learned_conditioning` does: each distinct prompt is expanded into its
 * prompt-editing schedule, the schedule's texts are chunked (emphasis, BREAK, comma back-tracking) and
 * encoded together (emphasis restores the mean over that batch), giving one context per schedule entry.
 * `AND` splits a prompt into weighted parts, each conditioned the same way (composable diffusion).
 */
import type { EmphasisMode } from '../text/conditioning.ts';
import { CLIPTokenizer } from '../text/clip-tokenizer.ts';
import { applyEmphasis, batchChunks } from '../text/conditioning.ts';
import { getMulticondPromptList } from '../text/prompt-parser.ts';
import { getPromptSchedules } from '../text/prompt-schedules.ts';
import { Tensor } from '../tensor.ts';
import type { LoadedModel } from './model.ts';

/** A context [L, C] in force up to and including model call `endAtStep`. */
export interface ScheduledCond {
  endAtStep: number;
  cond: Tensor;
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
}

export class TextConditioner {
  private readonly cache = new Map<string, Promise<CondSchedule>>();

  constructor(private readonly model: LoadedModel, private readonly options: TextOptions, private readonly steps: number) {}

  /** A1111 get_learned_conditioning for one prompt (cached by text). */
  schedule(prompt: string): Promise<CondSchedule> {
    let cached = this.cache.get(prompt);
    if (!cached) {
      cached = this.encodeSchedule(prompt);
      this.cache.set(prompt, cached);
    }
    return cached;
  }

  /** A1111 get_multicond_learned_conditioning: per prompt, its AND parts. */
  async multicond(prompts: readonly string[]): Promise<MultiCond[]> {
    const { indexes, flatPrompts } = getMulticondPromptList(prompts);
    const schedules = await Promise.all(flatPrompts.map((p) => this.schedule(p)));
    return indexes.map((parts) => ({ parts: parts.map(([index, weight]) => ({ schedule: schedules[index], weight })) }));
  }

  private async encodeSchedule(prompt: string): Promise<CondSchedule> {
    const [entries] = getPromptSchedules([prompt], this.steps);
    const conds = await this.encodeTexts(entries.map(([, text]) => text));
    return entries.map(([endAtStep], i) => ({ endAtStep, cond: conds[i] }));
  }

  /** Encodes texts as one batch: chunk k of every text together, emphasis per chunk batch; → [77·k, C] each. */
  private async encodeTexts(texts: readonly string[]): Promise<Tensor[]> {
    const { clipSkip, emphasis, commaPaddingBacktrack } = this.options;
    const { chunks } = batchChunks(texts, CLIPTokenizer.load(), { emphasis, commaPaddingBacktrack });
    const perChunk: Tensor[] = [];
    for (const batch of chunks) {
      // TODO(issue 4): splice textual-inversion vectors (batch[b].fixes) into the token embeddings.
      const z = await this.model.encodeTokens(batch.map((c) => c.tokens), clipSkip); // [T, 77, C]
      const multipliers = batch.flatMap((c) => c.multipliers);
      perChunk.push(new Tensor(z.shape, applyEmphasis(emphasis, z.data, multipliers)));
    }
    const [, , width] = perChunk[0].shape;
    return texts.map((_, b) => Tensor.cat(perChunk.map((z) => z.get(b))).reshape([77 * perChunk.length, width]));
  }
}

/** The schedule entry in force at model call `step` (A1111 reconstruct_cond_batch: first with step ≤ end). */
export function condAt(schedule: CondSchedule, step: number): Tensor {
  return (schedule.find((entry) => step <= entry.endAtStep) ?? schedule[0]).cond;
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
