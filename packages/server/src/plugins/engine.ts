/** Decorates the app with the application service, so routes reach the engine only through `app.sd`. */
import type { FastifyInstance } from 'fastify';
import type { SdService } from '../services/sd-service.ts';

export function registerEngine(app: FastifyInstance, service: SdService): void {
  app.decorate('sd', service);
}
