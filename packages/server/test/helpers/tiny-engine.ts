/**
 * The real engine on the tiny SD1.5 fixture, served over HTTP on a free port: the set-up the engine e2e tests
 * share. `skip` is false, or the printed reason when ../shared is not beside this clone.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppDeps, buildApp } from '../../src/app.ts';
import { EngineGenerator } from '../../src/services/engine-generator.ts';
import { WorkerGenerator } from '../../src/services/worker-generator.ts';
import type { SdApiInstance } from '../../src/types.ts';
import { SHARED_DIR } from './spec.ts';

export const TINY_SD15_CKPT = join(SHARED_DIR, 'fixtures', 'tiny-sd15', 'model.safetensors');

/** false when every path exists, else the skip reason naming the first absent one. */
export function needFiles(...paths: string[]): false | string {
  const missing = [TINY_SD15_CKPT, ...paths].find((p) => !existsSync(p));
  return missing ? `fixture ${missing} is absent (../shared is not beside this clone)` : false;
}

export interface TinyEngineServer {
  app: SdApiInstance;
  base: string;
  generator: EngineGenerator | WorkerGenerator;
  dataDir: string;
  close(): Promise<void>;
}

export interface TinyEngineOptions {
  /** A data dir prepared by the test (model files dropped in first); default: a fresh one. */
  dataDir?: string;
  /** 'process': the engine in its own process, as `sdapi serve` runs it (WorkerGenerator); default: in this thread. */
  engine?: 'inline' | 'process';
}

/** buildApp + the engine on the tiny checkpoint (in a fresh data dir unless given), listening on 127.0.0.1:0. */
export async function startTinyEngineServer(name: string, deps: Partial<AppDeps> = {}, options: TinyEngineOptions = {}): Promise<TinyEngineServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `sdapi-${name}-`));
  const settings = { dataDir, ckpt: TINY_SD15_CKPT, placeholder: false };
  const generator = options.engine === 'process' ? new WorkerGenerator(settings) : new EngineGenerator(settings);
  const app = await buildApp({ generator, dataDir, ...deps });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    base,
    generator,
    dataDir,
    close: async () => {
      await app.close();
      await generator.close();
    },
  };
}
