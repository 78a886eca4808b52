/**
 * Public pieces of the text side: the CLIP tokenizer and A1111's prompt language (comments, styles, extra
 * networks, AND, prompt editing, emphasis, BREAK, 75-token chunking, emphasis application). `pipeline/`
 * wires them in A1111's order (spec §6.1): styles → comments → extra networks → AND → schedules → chunks.
 */
export { bytesToUnicode, CLIP_BOS, CLIP_EOS, CLIP_VOCAB_SIZE, CLIPTokenizer, packTokens } from './clip-tokenizer.ts';
export { stripComments } from './comments.ts';
export {
  applyEmphasis,
  batchChunks,
  type ChunkFix,
  type ChunkOptions,
  type ChunkTokenizer,
  EMPHASIS_MODES,
  type EmbeddingRef,
  EmbeddingTokenIndex,
  type EmphasisMode,
  emptyChunk,
  type PromptChunk,
  padAfterFirstEos,
  tokenizeLine,
} from './conditioning.ts';
export {
  type ExtraNetworkData,
  type ExtraNetworkParams,
  extraNetworkParams,
  type LoraMultipliers,
  loraMultipliers,
  parseExtraNetworkPrompts,
  parseExtraNetworks,
} from './extra-networks.ts';
export {
  getMulticondPromptList,
  isBreakMarker,
  type MulticondPromptList,
  parsePromptAttention,
  ROUND_BRACKET_MULTIPLIER,
  SQUARE_BRACKET_MULTIPLIER,
  splitSubpromptWeight,
  type WeightedText,
} from './prompt-parser.ts';
export { getPromptSchedules, type ScheduleEntry, type ScheduleOptions, scheduleIndexAt } from './prompt-schedules.ts';
export {
  applyStyleTexts,
  extractStyleTextFromPrompt,
  mergeStylePrompt,
  type PromptStyle,
  parseCsv,
  parseStylesCsv,
  StyleDatabase,
} from './styles.ts';
export { basicClean, fixText, htmlUnescape, whitespaceClean } from './text-cleaning.ts';
