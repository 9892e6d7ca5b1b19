/**
 * The event Lambda's entry (Function URL → Hono's AWS Lambda adapter). The app is
 * built once per cold start, from the environment with its secrets read from Secrets
 * Manager, and reused by every invocation of that execution environment.
 */
import type { Hono } from "hono";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { resolveSecretEnv } from "../shared/secret-env";
import { buildEventsApp } from "./build";
import { parseEventsConfig } from "./config";

let app: Promise<Hono> | undefined;

async function buildFromEnvironment(): Promise<Hono> {
  const env = await resolveSecretEnv(process.env);
  // Every setting (the app's, the CDN's, the retry queue's) is read before anything is built:
  // a bad one fails the invocation with one error naming every problem.
  return buildEventsApp(parseEventsConfig(env));
}

export const handler = async (event: LambdaEvent, context: Parameters<ReturnType<typeof handle>>[1]) => {
  app ??= buildFromEnvironment().catch((error: unknown) => {
    // A failed cold start is retried by the next invocation rather than cached.
    app = undefined;
    throw error;
  });
  return handle(await app)(event, context);
};
