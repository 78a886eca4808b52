/** Starts `job-server-child.ts` (a server on `dataDir`, `stepMs` per fake step) in a child process, for the crash tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Resolves with the child and its URL once it listens; the child is SIGKILLed after the test file. */
export async function startJobServerChild(dataDir: string, stepMs: number): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(here, 'job-server-child.ts'), dataDir, String(stepMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  after(() => proc.kill('SIGKILL'));
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  for await (const line of lines) return { proc, url: JSON.parse(line).url as string };
  throw new Error('the child server exited before listening');
}
