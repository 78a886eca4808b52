/** `startServer(opts)`: buildApp + listen, for the CLI's `sdapi serve`. */

import { type AppDeps, buildApp } from './app.ts';
import type { SdApiInstance } from './types.ts';

export interface ServerOptions extends AppDeps {
  /** Default 7860 (A1111's port). */
  port?: number;
  /** Default 127.0.0.1; `0.0.0.0` is A1111's `--listen`. */
  host?: string;
}

/** Starts listening and resolves with the app and the address it listens on (e.g. `http://127.0.0.1:7860`). */
export async function startServer(opts: ServerOptions): Promise<{ app: SdApiInstance; url: string }> {
  const host = opts.host ?? '127.0.0.1';
  const app = await buildApp({ ...opts, listenHost: opts.listenHost ?? host });
  const url = await app.listen({ port: opts.port ?? 7860, host });
  return { app, url };
}
