/** An in-process sdapi server (buildApp + the server tests' fake engine) on an ephemeral port. */
import { after } from 'node:test';
import { type AppDeps, buildApp } from '@sdapi/server';
import { FakeGenerator } from '../../../server/test/helpers/fake-generator.ts';

export async function startServer(deps: Partial<AppDeps> = {}): Promise<{ url: string; generator: FakeGenerator }> {
  const generator = new FakeGenerator();
  const app = await buildApp({ generator, ...deps });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  after(() => app.close());
  return { url, generator };
}
