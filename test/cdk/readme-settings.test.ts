/**
 * The README's deploy steps name exactly the settings the code reads: every CDK context
 * key and secret in the README is read by the code, and every one the code reads is in
 * the README.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseEdgeCacheConfig } from "../../cdk/lib/config";
import { SECRET_SETTINGS } from "../../lambdas/shared/secret-env";
import { WORKER_SECRET_BINDINGS } from "../../workers/config";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const deploy = readme.slice(
  readme.indexOf("## Deploy"),
  readme.indexOf("\n## ", readme.indexOf("## Deploy") + 1),
);

/** First-column names of the Markdown table whose header's first cell is `header`. */
function tableNames(header: string): string[] {
  const lines = deploy.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${header} |`));
  expect(start, `a table headed '${header}' in the Deploy section`).toBeGreaterThanOrEqual(0);
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const name = /^\|\s*`([^`]+)`/.exec(line)?.[1];
    if (name) names.push(name);
  }
  return names;
}

/** Every context key the CDK app asks for, found by reading them all through a recorder. */
function contextKeysReadByCode(): string[] {
  const read = new Set<string>();
  try {
    parseEdgeCacheConfig((key) => {
      read.add(key);
      return "x";
    });
  } catch {
    // "x" is not valid for every key; only which keys were asked for matters here.
  }
  return [...read];
}

describe("README deploy section matches the code", () => {
  it("names exactly the CDK context keys the app reads", () => {
    expect(tableNames("context key").sort()).toEqual(contextKeysReadByCode().sort());
  });

  it("names exactly the secrets the Lambdas and the Worker read", () => {
    const secrets = new Set<string>([...SECRET_SETTINGS, ...WORKER_SECRET_BINDINGS]);
    expect(tableNames("secret").sort()).toEqual([...secrets].sort());
  });

  it("puts every Worker secret with wrangler, and only those", () => {
    const put = [...deploy.matchAll(/wrangler secret put (\S+)/g)].map((match) => match[1]);
    expect(put.sort()).toEqual([...WORKER_SECRET_BINDINGS].sort());
  });
});
