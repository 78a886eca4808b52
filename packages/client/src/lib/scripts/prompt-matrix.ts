/** `script_args` for A1111's "Prompt matrix" (spec a1111-api.md §5.4): the prompt's `|` parts are toggled on/off. */
import type { ScriptSelection } from './xyz-plot.ts';

export interface PromptMatrixOptions {
  /** Put the variable parts before the fixed part (default false). */
  putAtStart?: boolean;
  /** A different seed per image (seed + i) (default false). */
  differentSeeds?: boolean;
  /** Which prompt holds the `|` parts (default "positive"). */
  promptType?: 'positive' | 'negative';
  /** How parts are joined (default "comma"). */
  variationsDelimiter?: 'comma' | 'space';
  marginSize?: number;
}

/**
 * @example await sd.txt2img({ prompt: 'a cat|in a hat|on a mat', ...promptMatrix() }); // 4 images and a grid
 */
export function promptMatrix(opts: PromptMatrixOptions = {}): ScriptSelection {
  const { putAtStart = false, differentSeeds = false, promptType = 'positive', variationsDelimiter = 'comma', marginSize = 0 } = opts;
  // A1111 fails later with a 500 ValueError on other values; say so before sending.
  if (promptType !== 'positive' && promptType !== 'negative')
    throw new RangeError(`promptMatrix: promptType must be "positive" or "negative", got ${JSON.stringify(promptType)}`);
  if (variationsDelimiter !== 'comma' && variationsDelimiter !== 'space') {
    throw new RangeError(`promptMatrix: variationsDelimiter must be "comma" or "space", got ${JSON.stringify(variationsDelimiter)}`);
  }
  return { script_name: 'Prompt matrix', script_args: [putAtStart, differentSeeds, promptType, variationsDelimiter, marginSize] };
}
