/**
 * POST /sdapi/v1/server-kill, /server-restart, /server-stop (spec §3.25): registered only with `--api-server-stop`
 * (without it they are unknown paths, 404). They sit behind `--api-auth` like every /sdapi route.
 * - server-kill: the process ends at once; no answer is sent (the connection is dropped, as when A1111 exits).
 * - server-restart: A1111 restarts only under its launcher (webui.sh sets SD_WEBUI_RESTART); this server has none
 *   unless the host gives a `restart` hook, so it answers 501 with an empty body, as A1111 without its launcher.
 * - server-stop: answers `Stopping.` (plain text) and then shuts down cleanly (A1111's API-only mode answers and
 *   keeps running; stopping for real is what the route's name promises).
 */
import type { SdApiInstance } from '../../types.ts';

export interface ServerControl {
  /** Ends the process now (default `process.exit(0)`). */
  kill(): void;
  /** Starts a clean shutdown (finish or cancel the jobs, close, exit); called after the answer went out. */
  stop(): void;
  /** Restarts the server, when the host can; absent: 501. */
  restart?: () => void;
}

export function serverControlRoutes(app: SdApiInstance, control: ServerControl): void {
  app.post('/sdapi/v1/server-kill', async (request, reply) => {
    reply.hijack();
    request.raw.socket.destroy();
    control.kill();
  });
  app.post('/sdapi/v1/server-restart', async (_request, reply) => {
    if (!control.restart) return reply.status(501).send();
    reply.hijack();
    reply.raw.socket?.destroy();
    control.restart();
  });
  app.post('/sdapi/v1/server-stop', async (_request, reply) => {
    reply.raw.once('finish', () => control.stop());
    return reply.type('text/plain; charset=utf-8').send('Stopping.');
  });
}
