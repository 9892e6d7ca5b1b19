/**
 * The event Lambda's entry (Function URL → Hono's AWS Lambda adapter). The app is
 * built once per cold start, from the environment with its secrets read from Secrets
 * Manager, and reused by every invocation of that execution environment.
 *
 * The powertools Logger and Metrics are built once per cold start too (module scope), and
 * passed to the app as the logger and metrics it takes (lambdas/shared/powertools.ts): each
 * line then carries the invocation's request id, and the metrics are written as EMF at the
 * end of every invocation, whatever its outcome.
 */
import type { Hono } from "hono";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { createEmfMetrics, createLambdaLogger } from "../shared/powertools";
import { resolveSecretEnv } from "../shared/secret-env";
import { buildEventsApp } from "./build";
import { parseEventsConfig } from "./config";

type LambdaContext = Parameters<ReturnType<typeof handle>>[1];

const logger = createLambdaLogger("gpu-edge-cache-webhook");
const metrics = createEmfMetrics({
  onError: (error) => logger.warn("metrics not written", { error: String(error) }),
});

let app: Promise<Hono> | undefined;

async function buildFromEnvironment(): Promise<Hono> {
  const env = await resolveSecretEnv(process.env);
  // Every setting (the app's, the CDN's, the retry queue's) is read before anything is built:
  // a bad one fails the invocation with one error naming every problem.
  return buildEventsApp(parseEventsConfig(env), { logger, metrics });
}

export const handler = async (event: LambdaEvent, context: LambdaContext) => {
  logger.addContext(context);
  app ??= buildFromEnvironment().catch((error: unknown) => {
    // A failed cold start is retried by the next invocation rather than cached.
    app = undefined;
    throw error;
  });
  try {
    return await handle(await app)(event, context);
  } finally {
    metrics.flush();
  }
};
