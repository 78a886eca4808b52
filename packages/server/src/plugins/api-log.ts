/**
 * `--api-log` (spec §1.6): one line per request whose path starts with `/sdapi`, written after the response, in
 * A1111's format: `API <YYYY-mm-dd HH:MM:SS.ffffff> <status> <scheme>/<http version> <METHOD> <path> <client ip>
 * <seconds>`, e.g. `API 2024-07-27 10:00:00.123000 200 http/1.1 POST /sdapi/v1/txt2img 127.0.0.1 3.2151`.
 * Local time as Python's datetime.now(); JavaScript clocks have milliseconds, so the last three digits are 0.
 */
import { formatPyFloat } from '@sdapi/engine';
import type { FastifyInstance } from 'fastify';

const START = Symbol('sdapi.apiLogStart');
type Timed = { [START]?: bigint };

export function registerApiLog(app: FastifyInstance, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): void {
  app.addHook('onRequest', async (request) => {
    (request as unknown as Timed)[START] = process.hrtime.bigint();
  });
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (!path.startsWith('/sdapi')) return;
    const start = (request as unknown as Timed)[START] ?? process.hrtime.bigint();
    const seconds = Math.round((Number(process.hrtime.bigint() - start) / 1e9) * 1e4) / 1e4;
    const version = `${request.protocol}/${request.raw.httpVersion}`;
    write(`API ${pyTimestamp(new Date())} ${reply.statusCode} ${version} ${request.method} ${path} ${request.ip} ${formatPyFloat(seconds)}`);
  });
}

/** Python's `datetime.now().strftime('%Y-%m-%d %H:%M:%S.%f')` (local time). */
export function pyTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}
