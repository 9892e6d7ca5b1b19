/**
 * npm run check:bundle — bundles the Worker offline exactly as `wrangler deploy` would
 * (`--dry-run`, production environment) and the event Lambda as its NodejsFunction does, and
 * fails when either outgrows its budget. A large bundle slows every cold start: at every edge
 * location for the Worker, on every new instance for the Lambda.
 */
import { type BundleSize, measureLambdaBundle, measureWorkerBundle } from "./bundle-sizes";

/**
 * Limits in bytes, a little above today's bundles so growth is a decision. The Worker is about
 * 191 KiB raw and 57 KiB gzip: it was 656 / 155 with `import { z } from "zod"` (every locale of
 * zod's messages), 295 / 87 with the namespace import, and about 100 / 30 less once its
 * parameters were checked without zod and L1 used its own LRU (core/cache/lru-map.ts) instead
 * of lru-cache. Most of what is left is @upstash/redis (76 KiB minified) and hono (20).
 */
export const WORKER_BUNDLE_BUDGET = { rawBytes: 210 * 1024, gzipBytes: 60 * 1024 } as const;

/**
 * The event Lambda is about 335 KiB raw: 1,560 while it bundled the whole Cloudflare SDK (now
 * only its cache resource, through the SDK's tree-shakable client) and the pinned AWS SDK (now
 * the runtime's; cdk/lib/constructs/edge-function.ts says why). Lambda loads the code uncompressed.
 */
export const EVENT_LAMBDA_BUNDLE_BUDGET = { rawBytes: 400 * 1024 } as const;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

function overBudget(
  name: string,
  size: BundleSize,
  budget: { rawBytes: number; gzipBytes?: number },
): boolean {
  const gzip =
    budget.gzipBytes === undefined ? "" : `, ${kib(size.gzipBytes)} gzip (budget ${kib(budget.gzipBytes)})`;
  console.log(`${name}: ${kib(size.rawBytes)} raw (budget ${kib(budget.rawBytes)})${gzip}`);
  const over =
    size.rawBytes > budget.rawBytes || (budget.gzipBytes !== undefined && size.gzipBytes > budget.gzipBytes);
  if (over) console.error(`${name}: over budget`);
  return over;
}

const workerOver = overBudget("worker bundle", measureWorkerBundle(), WORKER_BUNDLE_BUDGET);
const lambdaOver = overBudget("event lambda bundle", await measureLambdaBundle(), EVENT_LAMBDA_BUNDLE_BUDGET);
if (workerOver || lambdaOver) process.exitCode = 1;
