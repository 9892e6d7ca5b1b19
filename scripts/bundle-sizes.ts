/**
 * What the deployed code weighs: the Worker bundled exactly as `wrangler deploy` would
 * (`--dry-run`, production environment), and the webhook Lambda bundled by esbuild with the
 * options its NodejsFunction uses (cdk/lib/constructs/edge-function.ts). Bundle size is cold
 * start time at every edge location and on every new Lambda instance.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { FUNCTION_BUNDLING } from "../cdk/lib/constructs/edge-function";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

export interface BundleSize {
  readonly rawBytes: number;
  readonly gzipBytes: number;
}

function sizeOf(code: Buffer | Uint8Array): BundleSize {
  return { rawBytes: code.byteLength, gzipBytes: gzipSync(code).byteLength };
}

export function measureWorkerBundle(): BundleSize {
  const outdir = mkdtempSync(join(tmpdir(), "worker-bundle-"));
  try {
    execFileSync(
      `${projectRoot}node_modules/.bin/wrangler`,
      ["deploy", "--dry-run", "--outdir", outdir, "--env", "production"],
      {
        cwd: projectRoot,
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      },
    );
    return sizeOf(readFileSync(join(outdir, "index.js")));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * The webhook Lambda's code (the source map, shipped beside it, is not counted), bundled with its
 * NodejsFunction's esbuild options: the AWS SDK stays out, as the runtime provides it.
 */
export async function measureLambdaBundle(entry = "lambdas/events/handler.ts"): Promise<BundleSize> {
  const result = await build({
    entryPoints: [`${projectRoot}${entry}`],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    banner: { js: FUNCTION_BUNDLING.banner },
    external: [...FUNCTION_BUNDLING.externalModules],
    logLevel: "warning",
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error(`esbuild produced nothing for ${entry}`);
  return sizeOf(file.contents);
}
