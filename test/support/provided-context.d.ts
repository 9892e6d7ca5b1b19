import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:PORT` of the harness's redis-server; empty when it runs over the emulator. */
    redisUrl: string;
    /** The bridge in front of that redis-server. */
    bridgeUrl: string;
    /** `redis` when bridgeUrl fronts a real server (always in CI). */
    bridgeBackend: "redis" | "emulator";
    /** A bridge over the in-process emulator. */
    emulatorBridgeUrl: string;
    bridgeToken: string;
    /** The sample marketplace origin. */
    originUrl: string;
    /** A front cache's purge endpoint that records what it receives (test/setup/purge-recorder.ts). */
    purgeRecorderUrl: string;
  }
}
