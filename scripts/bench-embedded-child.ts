/** The embedded server on the tiny fixture in its own process, for scripts/bench-cluster.ts: prints `{"url"}`. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, EngineGenerator } from '../packages/server/src/index.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'sdapi-bench-embedded-'));
const generator = new EngineGenerator({ dataDir, ckpt: process.argv[2], placeholder: false });
const app = await buildApp({ generator, dataDir });
process.stdout.write(`${JSON.stringify({ url: await app.listen({ port: 0, host: '127.0.0.1' }) })}\n`);
