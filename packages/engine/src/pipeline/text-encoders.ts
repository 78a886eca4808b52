/**
 * Which output of each text encoder A1111 conditions on, per model family. These are the embedder settings of
 * the reference configs, which are not in the weights: ldm v1-inference.yaml FrozenCLIPEmbedder (last layer),
 * SD2 v2-inference-v.yaml FrozenOpenCLIPEmbedder `layer: penultimate`, sgm sd_xl_base.yaml FrozenCLIPEmbedder
 * `layer: hidden, layer_idx: 11` + FrozenOpenCLIPEmbedder2 `layer: penultimate, always_return_pooled`,
 * sd_xl_refiner.yaml FrozenOpenCLIPEmbedder2 alone. They are applied with A1111's wrapper rules (spec §6.8):
 * OpenCLIP ids are 0 after the first EOS; clip skip picks `final_layer_norm(hidden_states[-n])` for SD1 only;
 * SD2's wrapper ignores clip skip (always penultimate + ln_final); SDXL's CLIP-L honours it only with option
 * `sdxl_clip_l_skip` (then `hidden_states[-n]`, no final norm).
 */
import type { ModelFamily } from '../checkpoint/config.ts';
import type { Tensor } from '../tensor.ts';
import type { TextEncoderOutput } from './model.ts';

export interface TextEncoderRole {
  /** Id written after the first EOS (A1111 `id_pad`): null keeps HF CLIP's EOS padding; 0 for OpenCLIP. */
  padAfterEos: number | null;
  /** `clipSkip`: hidden_states[-CLIP_stop_at_last_layers]; `penultimate`: hidden_states[-2]. */
  layer: 'clipSkip' | 'penultimate';
  /** Whether the tower's final LayerNorm is applied to that hidden state. */
  finalNorm: boolean;
  /** Option `sdxl_clip_l_skip` switches this encoder to hidden_states[-CLIP_stop_at_last_layers] (raw). */
  honoursSdxlClipLSkip: boolean;
  /** Contributes the pooled text feature of the `vector` conditioning. */
  pooled: boolean;
  /** Which tensor of a two-tower (SDXL) textual-inversion embedding this encoder takes (A1111 `textual_inversion_key`). */
  embeddingKey: 'clip_l' | 'clip_g';
}

const SD1_CLIP: TextEncoderRole = { padAfterEos: null, layer: 'clipSkip', finalNorm: true, honoursSdxlClipLSkip: false, pooled: false, embeddingKey: 'clip_l' };
// SD2 keeps A1111's default key; it only matters for two-tensor embeddings, whose width never fits SD2.
const SD2_OPEN_CLIP: TextEncoderRole = { padAfterEos: 0, layer: 'penultimate', finalNorm: true, honoursSdxlClipLSkip: false, pooled: false, embeddingKey: 'clip_l' };
const SDXL_CLIP_L: TextEncoderRole = { padAfterEos: null, layer: 'penultimate', finalNorm: false, honoursSdxlClipLSkip: true, pooled: false, embeddingKey: 'clip_l' };
const SDXL_BIG_G: TextEncoderRole = { padAfterEos: 0, layer: 'penultimate', finalNorm: false, honoursSdxlClipLSkip: false, pooled: true, embeddingKey: 'clip_g' };

/** Roles in `config.text_encoders` order; their outputs are concatenated along the width (sgm GeneralConditioner). */
export const TEXT_ENCODER_ROLES: Record<ModelFamily, readonly TextEncoderRole[]> = {
  sd1: [SD1_CLIP],
  sd2: [SD2_OPEN_CLIP],
  sdxl: [SDXL_CLIP_L, SDXL_BIG_G],
  'sdxl-refiner': [SDXL_BIG_G],
};

export interface LayerChoice {
  clipSkip: number;
  sdxlClipLSkip: boolean;
}

/** The conditioning hidden state [N, 77, C] of one encoder's output under `role`. */
export function selectHiddenState(out: TextEncoderOutput, role: TextEncoderRole, { clipSkip, sdxlClipLSkip }: LayerChoice): Tensor {
  const layers = out.hiddenStates.shape[0] - 1;
  const fromEnd = (n: number) => Math.max(1, layers + 1 - Math.max(1, n)); // hidden_states[-n], never the embeddings
  if (role.honoursSdxlClipLSkip && sdxlClipLSkip) return out.hiddenStates.get(fromEnd(clipSkip)).clone();
  const index = role.layer === 'clipSkip' ? fromEnd(clipSkip) : layers - 1;
  return (role.finalNorm ? out.hiddenStatesLn : out.hiddenStates).get(index).clone();
}
