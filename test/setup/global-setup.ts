/**
 * Once per `vitest run`: a real redis-server on a free port, the Upstash bridge in
 * front of it, a second bridge over the in-process emulator (the contract suite
 * holds both to one protocol), the sample origin, and a recorder of front-cache purges
 * (purge-recorder.ts). Their URLs reach tests
 * through `inject()` (Node) and Miniflare bindings (workerd).
 */
import type { TestProject } from "vitest/node";
import { type RunningBridge, startBridgeServer } from "../../dev/bridge/server";
import { findRedisServer, type RedisServerChild, startRedisServer } from "../../dev/local/redis-server";
import { startOriginServer } from "../../dev/origin/server";
import { TEST_BRIDGE_TOKEN } from "../support/constants";
import { startPurgeRecorder } from "./purge-recorder";

export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    let redis: RedisServerChild | undefined;
    if (findRedisServer()) {
      redis = await startRedisServer();
      stops.push(() => redis?.stop() ?? Promise.resolve());
    } else if (process.env.CI === "true") {
      // CI must prove the real thing: an emulator pass would hide Redis behaviour.
      throw new Error(
        "CI=true but redis-server is not installed: install it (apt-get install -y redis-server)",
      );
    } else {
      console.warn(
        "\n[test setup] redis-server not found: the 'real Redis' bridge runs over the emulator instead\n",
      );
    }
    const bridge: RunningBridge = await startBridgeServer({
      token: TEST_BRIDGE_TOKEN,
      ...(redis ? { redisUrl: redis.url } : {}),
    });
    stops.push(() => bridge.close());
    const emulatorBridge = await startBridgeServer({ token: TEST_BRIDGE_TOKEN });
    stops.push(() => emulatorBridge.close());
    const origin = await startOriginServer({ port: 0 });
    stops.push(() => origin.close());
    const purgeRecorder = await startPurgeRecorder();
    stops.push(() => purgeRecorder.close());

    project.provide("redisUrl", redis?.url ?? "");
    project.provide("bridgeUrl", bridge.url);
    project.provide("bridgeBackend", bridge.backend.kind);
    project.provide("emulatorBridgeUrl", emulatorBridge.url);
    project.provide("bridgeToken", TEST_BRIDGE_TOKEN);
    project.provide("originUrl", origin.url);
    project.provide("purgeRecorderUrl", purgeRecorder.url);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return stopAll;
}
