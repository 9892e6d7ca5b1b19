/**
 * The CDK app (`cdk synth`, `cdk deploy`): one environment-agnostic stack, checked by
 * cdk-nag's AWS Solutions rules at synth time. Settings come from CDK context (cdk.json,
 * `-c key=value`); see cdk/lib/config.ts.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { parseEdgeCacheConfig } from "../lib/config";
import { EdgeCacheStack } from "../lib/edge-cache-stack";

const app = new App();
const config = parseEdgeCacheConfig((key) => app.node.tryGetContext(key));
new EdgeCacheStack(app, "GpuEdgeCache", {
  config,
  description: "GPU marketplace edge cache: webhook Lambda, purge retry queue, CloudFront",
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
