/** Starts buildApp() on an ephemeral port for tests that talk real HTTP. */
import { after } from 'node:test';
import { type AppDeps, buildApp, type SdApiInstance } from '../../src/index.ts';
import { FakeGenerator } from './fake-generator.ts';

export interface TestServer {
  app: SdApiInstance;
  url: string;
  generator: FakeGenerator;
  /** fetch relative to the server; JSON-encodes `json` when given. `json()` is typed `any` for test assertions. */
  request(path: string, init?: RequestInit & { json?: unknown }): Promise<{ json(): Promise<any> } & Response>;
}

/** A listening app with a FakeGenerator; closed automatically after the test file. */
export async function startTestServer(deps: Partial<AppDeps> & { generator?: FakeGenerator } = {}): Promise<TestServer> {
  const generator = deps.generator ?? new FakeGenerator();
  const app = await buildApp({ ...deps, generator });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());
  const request = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    return fetch(url + path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
  };
  return { app, url, generator, request };
}
