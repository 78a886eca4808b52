/** `/openapi.json` and the Swagger UI at `/docs` (FastAPI serves the same two paths). */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_LIMITS, LIMIT_FLAGS, type RequestLimits } from '../services/limits.ts';

const limitLines = (Object.keys(LIMIT_FLAGS) as (keyof RequestLimits)[])
  .map((key) => `- \`${LIMIT_FLAGS[key]}\` (default ${DEFAULT_LIMITS[key] ?? 'none'})`)
  .join('\n');

/** The front page of /docs: what every route shares (plugins/security.ts, services/limits.ts). */
const DESCRIPTION = `AUTOMATIC1111-compatible /sdapi/v1 API, plus /sdapi/v2 jobs and OpenAI-compatible /v1/images.

**Auth**: with \`--api-auth user:pass\` (HTTP Basic) or \`--api-keys key\` (\`Authorization: Bearer key\`) every route
answers 401 without credentials, unknown paths and methods included, except \`GET /health\` and the web page's shell.

**Origins**: a request with an \`Origin\` header that is neither this server's own origin nor allowed by
\`--cors-allow-origins\` / \`--cors-allow-origins-regex\` (\`Origin: null\` included) is refused with 403.
Clients that send no \`Origin\` (curl, webuiapi, the SDK in Node) are unaffected.

**Hosts** (DNS rebinding): listening on loopback (the default), a request whose \`Host\` header is not \`localhost\`,
\`127.0.0.1\` or \`[::1]\` (any port) is refused with 403; \`--allowed-hosts a,b\` adds names. With \`--listen\` the Host
check is off unless \`--allowed-hosts\` is given.

**Limits**, checked before any work (422 naming the field, 413 for bodies and input images, 429 + Retry-After for the
per-client quota); the values in force are in \`GET /sdapi/v2/capabilities\` → \`limits\`:
${limitLines}

Input images must be PNG, JPEG, WebP, GIF or BMP (by their bytes); their size is read from the header before decoding.
`;

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'sdapi', description: DESCRIPTION, version },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
