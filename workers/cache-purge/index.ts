/** The Worker's signed purge endpoint for the cache in front of it (workers/cache-purge/route.ts). */
export { MAX_PURGE_HEADER_BYTES } from "./http-front-purger";
export {
  MAX_PURGE_BODY_BYTES,
  MAX_PURGE_ENTRY_LENGTH,
  MAX_PURGE_PREFIXES,
  MAX_PURGE_TAGS,
  type PurgeRequest,
} from "./purge-request";
export {
  CACHE_PURGE_PATH,
  type CachePurgeSettings,
  cachePurgeHandler,
  PURGE_ACTION,
  type PurgeResult,
} from "./route";
export type {
  WorkersCacheContext,
  WorkersCachePurgeOptions,
  WorkersCachePurgeResult,
} from "./workers-cache-purger";
