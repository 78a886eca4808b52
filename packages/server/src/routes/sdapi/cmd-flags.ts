/** GET /sdapi/v1/cmd-flags (spec §3.10). */
import { CmdFlags } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function cmdFlagsRoute(app: SdApiInstance): void {
  app.get('/sdapi/v1/cmd-flags', { schema: { response: { 200: CmdFlags } } }, async () => app.sd.cmdFlags);
}
