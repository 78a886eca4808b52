/**
 * Public pieces of the text side: the CLIP tokenizer and A1111's prompt language (comments, styles, extra
 * networks, AND, prompt editing, emphasis, BREAK, 75-token chunking, emphasis application). `pipeline/`
 * wires them in A1111's order (spec §6.1): styles → comments → extra networks → AND → schedules → chunks.
 */
export { CLIP_BOS, CLIP_EOS, CLIP_VOCAB_SIZE, CLIPTokenizer, bytesToUnicode, packTokens } from './clip-tokenizer.ts';
export { basicClean, fixText, htmlUnescape, whitespaceClean } from './text-cleaning.ts';
export { stripComments } from './comments.ts';
export {
  type ExtraNetworkData,
  type ExtraNetworkParams,
  type LoraMultipliers,
  extraNetworkParams,
  loraMultipliers,
  parseExtraNetworkPrompts,
  parseExtraNetworks,
} from './extra-networks.ts';
export {
  type MulticondPromptList,
  type WeightedText,
  ROUND_BRACKET_MULTIPLIER,
  SQUARE_BRACKET_MULTIPLIER,
  getMulticondPromptList,
  isBreakMarker,
  parsePromptAttention,
  splitSubpromptWeight,
} from './prompt-parser.ts';
export { type ScheduleEntry, type ScheduleOptions, getPromptSchedules, scheduleIndexAt } from './prompt-schedules.ts';
export {
  type ChunkFix,
  type ChunkOptions,
  type ChunkTokenizer,
  type EmbeddingRef,
  type EmphasisMode,
  type PromptChunk,
  EMPHASIS_MODES,
  EmbeddingTokenIndex,
  applyEmphasis,
  batchChunks,
  emptyChunk,
  padAfterFirstEos,
  tokenizeLine,
} from './conditioning.ts';
export {
  type PromptStyle,
  StyleDatabase,
  applyStyleTexts,
  extractStyleTextFromPrompt,
  mergeStylePrompt,
  parseCsv,
  parseStylesCsv,
} from './styles.ts';
