/** Local stand-ins for the CDN purge APIs (docs/architecture.md "Local stack"): they record what would have been purged. */

export { type ServedApp, serveApp } from "../support/serve-app";
export * from "./cloudflare-fake";
export * from "./cloudfront-fake";
