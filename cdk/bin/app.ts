/**
 * The CDK app (`cdk synth`, `cdk deploy`): one environment-agnostic stack, checked by
 * cdk-nag's AWS Solutions rules at synth time. Settings come from CDK context (cdk.json,
 * `-c key=value`); see cdk/lib/config.ts. `-c example=true` synthesises the example stack
 * from example values (cdk/lib/edge-cache-app.ts).
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { EdgeCacheConfigError } from "../lib/config";
import { addEdgeCacheStack } from "../lib/edge-cache-app";

const app = new App();
try {
  addEdgeCacheStack(app);
} catch (error) {
  // A context mistake is the operator's to fix: one message naming every key, not a stack trace.
  if (!(error instanceof EdgeCacheConfigError)) throw error;
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
