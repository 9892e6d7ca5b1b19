/**
 * Runs both CDN fakes on their own, for a person trying purges by hand:
 *   node --import tsx dev/fakes/cli.ts [--cloudfront-port N] [--cloudflare-port N]
 * Prints the environment that points the purgers (lambdas/purge/config.ts) at them;
 * `GET <url>/_fake/purges` on either shows what would have been purged.
 */
import { parseArgs } from "node:util";
import { startCloudflareFake } from "./cloudflare-fake";
import { startCloudFrontFake } from "./cloudfront-fake";

const LOCAL_CLOUDFLARE_TOKEN = "local-cloudflare-token";

const { values } = parseArgs({
  options: {
    "cloudfront-port": { type: "string", default: "0" },
    "cloudflare-port": { type: "string", default: "0" },
  },
});

const cloudfront = await startCloudFrontFake({ port: Number(values["cloudfront-port"]) });
const cloudflare = await startCloudflareFake({
  port: Number(values["cloudflare-port"]),
  apiToken: LOCAL_CLOUDFLARE_TOKEN,
});

console.log(`CloudFront fake: ${cloudfront.url}  (purges: ${cloudfront.url}/_fake/purges)`);
console.log(`Cloudflare fake: ${cloudflare.url}  (purges: ${cloudflare.url}/_fake/purges)`);
console.log("\nEnvironment for the event Lambda:");
console.log(`CLOUDFRONT_DISTRIBUTION_ID=ELOCAL`);
console.log(`CLOUDFRONT_ENDPOINT=${cloudfront.url}`);
console.log(`CLOUDFLARE_ZONE_ID=local-zone`);
console.log(`CLOUDFLARE_API_TOKEN=${LOCAL_CLOUDFLARE_TOKEN}`);
console.log(`CLOUDFLARE_BASE_URL=${cloudflare.url}/client/v4`);

const stop = async () => {
  await Promise.allSettled([cloudfront.close(), cloudflare.close()]);
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
