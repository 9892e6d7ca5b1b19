/**
 * The CDK app (`cdk synth`, `cdk deploy`): one environment-agnostic stack, checked by
 * cdk-nag's AWS Solutions rules at synth time. Settings come from CDK context (cdk.json,
 * `-c key=value`); see cdk/lib/config.ts. `-c example=true` synthesises the example stack
 * from example values (cdk/lib/edge-cache-app.ts).
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { addEdgeCacheStack } from "../lib/edge-cache-app";

const app = new App();
addEdgeCacheStack(app);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
