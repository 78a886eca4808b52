/**
 * GET /sdapi/v1/embeddings (spec §3.16) and POST /sdapi/v1/refresh-embeddings (§3.17: reloads the folder under
 * the queue lock, answers null).
 */
import { EmbeddingsResponse } from '@sdapi/protocol';
import type { SdApiInstance } from '../../types.ts';

export function embeddingsRoutes(app: SdApiInstance): void {
  app.get('/sdapi/v1/embeddings', { schema: { response: { 200: EmbeddingsResponse } } }, async () => app.sd.embeddings());
  app.post('/sdapi/v1/refresh-embeddings', async () => {
    await app.sd.refreshEmbeddings();
    return null;
  });
}
