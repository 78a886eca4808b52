// Public API of @sdapi/server.
export { type AppDeps, buildApp } from './app.ts';
export { type ServerOptions, startServer } from './server.ts';
export { type Catalog, engineCatalog, resolveSampler } from './services/catalog.ts';
export { ApiError, type ApiErrorCode } from './services/errors.ts';
export type { CheckpointFile, Generator } from './services/generator.ts';
export { OptionsStore } from './services/options-store.ts';
export type { SdApiInstance } from './types.ts';
export { EngineGenerator, type EngineGeneratorOptions } from './services/engine-generator.ts';
export { WorkerGenerator } from './services/worker-generator.ts';
export { parseRetention } from './services/jobs/retention.ts';
export { isA1111Flag } from './services/cmd-flags.ts';
export type { RetentionPolicy } from './services/jobs/types.ts';
export { type ClusterOptions, RedisCluster, type WorkerInfo } from './services/jobs/redis/cluster.ts';
