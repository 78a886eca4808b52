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
  /** POSTs `body` as JSON to `path` and reads the JSON answer (postJson). */
  post(path: string, body: unknown): Promise<JsonReply>;
}

/** A JSON answer: its status and parsed body (`any` inside, for test assertions). */
export interface JsonReply {
  status: number;
  body: Record<string, any>;
}

/** POSTs `body` as JSON to `url` (any server: test, tiny engine, child process) and parses the JSON answer. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
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
  return { app, url, generator, request, post: (path, body) => postJson(url + path, body) };
}
