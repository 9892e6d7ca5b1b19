/**
 * Every Redis key the system uses is built here and nowhere else (DESIGN "Redis
 * key namespace"): one configurable prefix plus a schema version, so two
 * deployments can share a database and a schema change can move to `v2:` without
 * reading old values.
 */
export const KEY_SCHEMA_VERSION = "v1";
export const DEFAULT_KEY_PREFIX = "ec";

export interface Keyspace {
  /** `ec:v1:` — everything below starts with it. */
  readonly root: string;
  gpu(gpuId: string): string;
}

export function createKeyspace(prefix: string = DEFAULT_KEY_PREFIX): Keyspace {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(prefix)) {
    throw new TypeError(`key prefix must be letters, digits, '_' or '-', got '${prefix}'`);
  }
  const root = `${prefix}:${KEY_SCHEMA_VERSION}:`;
  return {
    root,
    gpu: (gpuId) => `${root}gpu:${gpuId}`,
  };
}
