/**
 * The app's one stack, from CDK context: `GpuEdgeCache`, or in example mode (`-c example=true`,
 * example values, for an offline synth such as CI's) `GpuEdgeCacheExample`, so that deploying
 * an example by mistake can never update the real stack or take its secrets' names.
 */
import type { App } from "aws-cdk-lib";
import { parseEdgeCacheConfig } from "./config";
import { EdgeCacheStack } from "./edge-cache-stack";

export const STACK_NAME = "GpuEdgeCache";
export const EXAMPLE_STACK_NAME = "GpuEdgeCacheExample";

/** Reads the app's context (one error naming every problem) and adds the stack. */
export function addEdgeCacheStack(app: App): EdgeCacheStack {
  const config = parseEdgeCacheConfig((key) => app.node.tryGetContext(key));
  return new EdgeCacheStack(app, config.example ? EXAMPLE_STACK_NAME : STACK_NAME, {
    config,
    description: "GPU marketplace edge cache: webhook Lambda, purge retry queue, CloudFront",
  });
}
