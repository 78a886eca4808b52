/** GET /sdapi/v1/prompt-styles (spec §3.15): the styles of every style file, in file order. */
import { PromptStyleList } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function promptStylesRoute(app: SdApiInstance): void {
  app.get('/sdapi/v1/prompt-styles', { schema: { response: { 200: PromptStyleList } } }, async () => app.sd.styles.list());
}
