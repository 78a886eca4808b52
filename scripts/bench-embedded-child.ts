/** The embedded server on the tiny fixture in its own process, for scripts/bench-cluster.ts: prints `{"url"}`. */
import { startTinyEngineServer } from '../packages/server/test/helpers/tiny-engine.ts';

const { base } = await startTinyEngineServer('bench-embedded');
process.stdout.write(`${JSON.stringify({ url: base })}\n`);
