/** Decorates the app with the ControlNet service (units for generation routes, catalog for /controlnet/*). */
import type { FastifyInstance } from 'fastify';
import type { ControlNetService } from '../services/controlnet.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** ControlNet units and model catalog, see services/controlnet.ts. */
    controlNet: ControlNetService;
  }
}

export function registerControlNet(app: FastifyInstance, service: ControlNetService): void {
  app.decorate('controlNet', service);
}
