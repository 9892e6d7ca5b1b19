/**
 * The event Lambda's entry (Function URL → Hono's AWS Lambda adapter). The app is
 * built once per cold start, from the environment, and reused by every invocation
 * of that execution environment.
 */
import type { Hono } from "hono";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import { buildEventsApp } from "./build";
import { parseEventsConfig } from "./config";

let app: Hono | undefined;

export const handler = (event: LambdaEvent, context: Parameters<ReturnType<typeof handle>>[1]) => {
  // A bad setting fails the invocation with one error naming every problem.
  app ??= buildEventsApp(parseEventsConfig(process.env), { purgeEnv: process.env });
  return handle(app)(event, context);
};
