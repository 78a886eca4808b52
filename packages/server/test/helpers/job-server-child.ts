/**
 * A server in a child process, for crash tests: `node --import tsx job-server-child.ts <data-dir> <ms-per-step>`
 * prints `{"url": …}` once listening; the test kills it with SIGKILL mid-job.
 */
import { buildApp } from '../../src/index.ts';
import { FakeGenerator } from './fake-generator.ts';

const [dataDir, stepMs] = process.argv.slice(2);
const generator = new FakeGenerator();
generator.stepDelayMs = Number(stepMs);
const app = await buildApp({ generator, dataDir });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ url })}\n`);
