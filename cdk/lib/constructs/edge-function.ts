/**
 * A Node.js Lambda built the way every function of this app is: Node 24 on arm64, bundled
 * locally by esbuild as minified ESM with source maps (no Docker), and a log group of its own
 * with a retention period (not the never-expiring group Lambda would create).
 */
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** The repository root (entries and the lock file are resolved from it). */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export const FUNCTION_RUNTIME = Runtime.NODEJS_24_X;

/**
 * The esbuild options of every function's bundle (beside source maps and ESM output, set below).
 * scripts/bundle-sizes.ts measures the event Lambda with these same options, so its CI budget
 * judges the code that is deployed.
 */
export const FUNCTION_BUNDLING = {
  minify: true,
  target: "node24",
  mainFields: ["module", "main"],
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  // The AWS SDK v3 the runtime ships is used, not the pinned clients: bundled, they were about
  // 600 KiB of the event Lambda's 935 (every new instance loads and parses that on its cold
  // start). The trade: the runtime's SDK version, which can lag or lead the pinned one; the
  // functions call only long-standing operations (CreateInvalidation, GetInvalidation,
  // SendMessageBatch, ChangeMessageVisibility, GetSecretValue), and the tests run the pinned clients.
  externalModules: ["@aws-sdk/*"],
} as const;

export interface EdgeFunctionProps {
  /** The handler module, relative to the repository root (it exports `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly environment?: Record<string, string>;
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly reservedConcurrentExecutions?: number;
  readonly logRetention?: RetentionDays;
}

export class EdgeFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: EdgeFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.function = new NodejsFunction(this, "Function", {
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup: this.logGroup,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      environment: {
        // The bundle ships a source map; stack traces then name the TypeScript lines.
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        sourceMap: true,
        // Maps without the sources: stack traces still name files and lines, the asset stays small.
        sourcesContent: false,
        format: OutputFormat.ESM,
        minify: FUNCTION_BUNDLING.minify,
        target: FUNCTION_BUNDLING.target,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        banner: FUNCTION_BUNDLING.banner,
        externalModules: [...FUNCTION_BUNDLING.externalModules],
      },
    });
  }
}
