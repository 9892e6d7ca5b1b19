/**
 * npm run check:bundle — bundles the Worker offline exactly as `wrangler deploy` would
 * (`--dry-run`, production environment) and fails when it outgrows its budget. A large
 * bundle slows every cold start at every edge location.
 */
import { measureWorkerBundle } from "./bundle-sizes";

/**
 * Raw and gzip limits in bytes; today's bundle is about 295 KiB raw and 87 KiB gzip. It was 656 and
 * 155 while zod was imported as `import { z } from "zod"`, which pulls every locale of its error
 * messages into the bundle; the namespace import (`import * as z from "zod"`) leaves them out.
 */
export const WORKER_BUNDLE_BUDGET = { rawBytes: 320 * 1024, gzipBytes: 96 * 1024 } as const;

const { rawBytes, gzipBytes } = measureWorkerBundle();
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
console.log(
  `worker bundle: ${kib(rawBytes)} raw (budget ${kib(WORKER_BUNDLE_BUDGET.rawBytes)}), ${kib(gzipBytes)} gzip (budget ${kib(WORKER_BUNDLE_BUDGET.gzipBytes)})`,
);
if (rawBytes > WORKER_BUNDLE_BUDGET.rawBytes || gzipBytes > WORKER_BUNDLE_BUDGET.gzipBytes) {
  console.error("worker bundle: over budget");
  process.exitCode = 1;
}
