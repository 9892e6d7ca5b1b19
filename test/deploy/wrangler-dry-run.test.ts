/**
 * What a Worker deploy will have, checked offline: `wrangler deploy --dry-run` bundles the
 * production environment and lists its bindings; wrangler's own config reader says which
 * secrets a deploy requires and that staging and production have no route of their own; and
 * scripts/deploy-worker.ts, which gives them their route, refuses to run without one and
 * deploys through wrangler with it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { experimental_readRawConfig, unstable_readConfig } from "wrangler";
import {
  DeployWorkerConfigError,
  planDeploy,
  ROUTED_ENVIRONMENTS,
  routedConfig,
} from "../../scripts/deploy-worker";
import { parseWorkerConfig, WORKER_SECRET_BINDINGS, WorkerConfigError } from "../../workers/config";
import { ANALYTICS_BINDING, ANALYTICS_DATASET } from "../../workers/telemetry/data-point";

const root = fileURLToPath(new URL("../..", import.meta.url));
const wranglerToml = join(root, "wrangler.toml");
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };
const ROUTE = { WORKER_ROUTE: "edge.gpu-market.internal/*", WORKER_ZONE: "gpu-market.internal" };

let scratch: string;
/** wrangler.toml as a deployment has it: `main` absolute (the copy lives elsewhere), its own hosts. */
let fixtureToml: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "wrangler-dry-run-"));
  const shipped = readFileSync(wranglerToml, "utf8");
  const fixture = shipped
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(root, "workers/index.ts"))}`)
    .replaceAll(".example.com", ".gpu-market.internal");
  expect(fixture).not.toContain("example.com");
  fixtureToml = join(scratch, "wrangler.toml");
  writeFileSync(fixtureToml, fixture);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The `env.NAME ("value")  Resource` rows of wrangler's bindings table. */
function bindingsTable(output: string): Map<string, { value: string; resource: string }> {
  const rows = new Map<string, { value: string; resource: string }>();
  for (const match of output.matchAll(/^env\.([A-Z0-9_]+) \("(.*)"\)\s{2,}(\S.*?)\s*$/gm))
    rows.set(match[1] as string, { value: match[2] as string, resource: match[3] as string });
  return rows;
}

/** The `env.NAME (dataset)  Analytics Engine Dataset` rows: binding → dataset. */
function analyticsRows(output: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of output.matchAll(/^env\.([A-Z0-9_]+) \(([^"()]+)\)\s{2,}Analytics Engine Dataset\s*$/gm))
    rows.set(match[1] as string, match[2] as string);
  return rows;
}

function readEnvironment(config: string, env: string) {
  return unstable_readConfig({ config, env }, { hideWarnings: true });
}

describe("wrangler deploy --dry-run --env production", () => {
  let output: string;
  let outdir: string;

  beforeAll(() => {
    outdir = join(scratch, "dry-run");
    const result = spawnSync(
      join(root, "node_modules/.bin/wrangler"),
      ["deploy", "--dry-run", "--env", "production", "--outdir", outdir],
      { cwd: root, encoding: "utf8", env: WRANGLER_ENV },
    );
    output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
  }, 120_000);

  it("bundles the Worker and lists exactly the production vars, as plain variables", () => {
    expect(existsSync(join(outdir, "index.js"))).toBe(true);
    expect(output).toContain("--dry-run: exiting now.");
    const table = bindingsTable(output);
    const vars = readEnvironment(wranglerToml, "production").vars as Record<string, string>;
    expect([...table.keys()].sort()).toEqual(
      ["KEY_PREFIX", "L1_SYNC_INTERVAL_MS", "ORIGIN_URL", "UPSTASH_REDIS_REST_URL"].sort(),
    );
    for (const [name, { value, resource }] of table) {
      expect(resource).toBe("Environment Variable");
      expect(value).toBe(vars[name]);
    }
    // Secrets are never vars.
    for (const secret of WORKER_SECRET_BINDINGS) expect(table.has(secret)).toBe(false);
  });

  it("binds the Analytics Engine dataset the Worker writes its data points to", () => {
    expect(Object.fromEntries(analyticsRows(output))).toEqual({ [ANALYTICS_BINDING]: ANALYTICS_DATASET });
  });

  it("lists vars that, with the required secrets, are all the Worker needs to start", () => {
    const vars = Object.fromEntries([...bindingsTable(output)].map(([name, { value }]) => [name, value]));
    const required: string[] = readEnvironment(wranglerToml, "production").secrets?.required ?? [];
    const secrets: Record<string, string> = {
      UPSTASH_REDIS_REST_TOKEN: "token",
      PURGE_WEBHOOK_SECRETS: `whsec_${Buffer.alloc(24, 7).toString("base64")}`,
      OPERATOR_TOKEN: "operator-token-of-16+",
    };
    expect(() =>
      parseWorkerConfig({ ...vars, ...Object.fromEntries(required.map((name) => [name, secrets[name]])) }),
    ).not.toThrow();
    // Every secret the Worker cannot start without is one a deploy requires.
    let problems: readonly string[] = [];
    try {
      parseWorkerConfig(vars);
    } catch (error) {
      if (!(error instanceof WorkerConfigError)) throw error;
      problems = error.problems;
    }
    const needed = WORKER_SECRET_BINDINGS.filter((name) =>
      problems.some((problem) => problem.startsWith(`${name}: missing`)),
    );
    expect(needed).toContain("UPSTASH_REDIS_REST_TOKEN");
    expect(required).toEqual(expect.arrayContaining(needed));
  });
});

describe("wrangler.toml's routed environments", () => {
  it.each(ROUTED_ENVIRONMENTS)(
    "%s requires the Worker's secrets at deploy and has no route or workers.dev of its own",
    (env) => {
      const config = readEnvironment(wranglerToml, env);
      expect(config.secrets?.required).toEqual(["UPSTASH_REDIS_REST_TOKEN", "PURGE_WEBHOOK_SECRETS"]);
      for (const secret of config.secrets?.required ?? []) expect(WORKER_SECRET_BINDINGS).toContain(secret);
      expect(config.workers_dev).toBe(false);
      expect(config.routes).toBeUndefined();
      expect(config.route).toBeUndefined();
    },
  );

  it("leaves development on workers.dev", () => {
    expect(readEnvironment(wranglerToml, "development").workers_dev).toBe(true);
  });
});

describe("wrangler.toml's Analytics Engine binding", () => {
  it("every environment binds EDGE_METRICS to a dataset of its own; production's is gpu_edge_cache", () => {
    const datasets = new Map<string, string>();
    for (const env of [undefined, "development", ...ROUTED_ENVIRONMENTS] as const) {
      const config = env
        ? readEnvironment(wranglerToml, env)
        : unstable_readConfig({ config: wranglerToml }, { hideWarnings: true });
      const declared: ReadonlyArray<{ binding: string; dataset?: string }> = config.analytics_engine_datasets;
      const bound = declared.map(({ binding, dataset }) => ({ binding, dataset }));
      expect(bound, env ?? "top level").toEqual([
        { binding: ANALYTICS_BINDING, dataset: expect.any(String) },
      ]);
      datasets.set(env ?? "top level", bound[0]?.dataset as string);
    }
    expect(datasets.get("production")).toBe(ANALYTICS_DATASET);
    // `wrangler deploy` without --env deploys the production Worker's name: the same dataset.
    expect(datasets.get("top level")).toBe(ANALYTICS_DATASET);
    expect(
      new Set([datasets.get("development"), datasets.get("staging"), datasets.get("production")]).size,
    ).toBe(3);
  });
});

describe("scripts/deploy-worker.ts", () => {
  function refusal(argv: string[], environment: Record<string, string>): readonly string[] {
    try {
      planDeploy(argv, environment);
    } catch (error) {
      if (error instanceof DeployWorkerConfigError) return error.problems;
      throw error;
    }
    throw new Error("the deploy was planned");
  }

  it("refuses to run without WORKER_ROUTE and WORKER_ZONE: one error naming both, and no wrangler", () => {
    expect(refusal(["--env", "production"], {})).toEqual([
      expect.stringMatching(/^WORKER_ROUTE: missing/),
      expect.stringMatching(/^WORKER_ZONE: missing/),
    ]);
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", join(root, "scripts/deploy-worker.ts"), "--env", "production"],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...WRANGLER_ENV, WORKER_ROUTE: "", WORKER_ZONE: "" },
      },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(
      /invalid Worker deploy settings.*WORKER_ROUTE: missing.*WORKER_ZONE: missing/,
    );
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain("wrangler 4");
  }, 60_000);

  it("refuses a bad environment, a route outside its zone, example domains, and route flags", () => {
    expect(refusal(["--env", "prod"], ROUTE)).toEqual(['--env: "prod" is not staging or production']);
    expect(
      refusal(["--env", "staging", "--config", fixtureToml], {
        WORKER_ROUTE: "edge.gpu-market.internal/*",
        WORKER_ZONE: "other-market.internal",
      }),
    ).toEqual([
      "WORKER_ROUTE: its host edge.gpu-market.internal is not in the zone WORKER_ZONE (other-market.internal)",
    ]);
    expect(
      refusal(["--env", "production", "--route", "x.internal/*"], {
        WORKER_ROUTE: "edge.example.com/*",
        WORKER_ZONE: "example.com",
      }),
    ).toEqual([
      expect.stringMatching(/^--route: not taken/),
      expect.stringMatching(/^WORKER_ROUTE: is an example/),
      expect.stringMatching(/^WORKER_ZONE: is an example/),
    ]);
    expect(
      refusal(["--env", "production"], {
        WORKER_ROUTE: "https://edge.gpu-market.internal/*",
        WORKER_ZONE: "gpu-market.internal",
      }),
    ).toEqual([
      expect.stringMatching(/^WORKER_ROUTE: "https:\/\/edge.gpu-market.internal\/\*" is not a route pattern/),
    ]);
  });

  it("refuses the shipped wrangler.toml while its vars are examples, naming each", () => {
    expect(refusal(["--env", "production"], ROUTE)).toEqual([
      expect.stringMatching(/^ORIGIN_URL \(\[env\.production\.vars\] in wrangler\.toml\): is an example/),
      expect.stringMatching(
        /^UPSTASH_REDIS_REST_URL \(\[env\.production\.vars\] in wrangler\.toml\): is an example/,
      ),
    ]);
  });

  it("gives the environment its route and zone, as wrangler reads the copy, and nothing else changes", () => {
    const { rawConfig } = experimental_readRawConfig({ config: fixtureToml });
    const routed = routedConfig(rawConfig, fixtureToml, {
      env: "production",
      route: ROUTE.WORKER_ROUTE,
      zone: ROUTE.WORKER_ZONE,
    });
    if (!routed.ok) throw new Error(routed.problems.join("; "));
    const copy = join(mkdtempSync(join(scratch, "copy-")), "wrangler.json");
    writeFileSync(copy, JSON.stringify(routed.value));
    const deployed = readEnvironment(copy, "production");
    const original = readEnvironment(fixtureToml, "production");
    expect(deployed.routes).toEqual([{ pattern: ROUTE.WORKER_ROUTE, zone_name: ROUTE.WORKER_ZONE }]);
    expect(deployed.workers_dev).toBe(false);
    expect(deployed.main).toBe(join(root, "workers/index.ts"));
    for (const key of [
      "name",
      "vars",
      "secrets",
      "cache",
      "limits",
      "observability",
      "analytics_engine_datasets",
      "compatibility_date",
    ] as const)
      expect(deployed[key], key).toEqual(original[key]);
    expect(readEnvironment(copy, "staging").routes).toBeUndefined();
  });

  it("deploys through wrangler with it: a dry run bundles and lists the environment's bindings", () => {
    const outdir = join(scratch, "script-dry-run");
    const result = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "scripts/deploy-worker.ts"),
        "--env",
        "production",
        "--config",
        fixtureToml,
        "--dry-run",
        "--outdir",
        outdir,
      ],
      { cwd: root, encoding: "utf8", env: { ...WRANGLER_ENV, ...ROUTE } },
    );
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toContain(
      `deploy-worker: gpu-edge-cache (production) on route ${ROUTE.WORKER_ROUTE} in zone ${ROUTE.WORKER_ZONE}`,
    );
    expect(existsSync(join(outdir, "index.js"))).toBe(true);
    const table = bindingsTable(output);
    expect(Object.fromEntries([...table].map(([name, { value }]) => [name, value]))).toEqual(
      readEnvironment(fixtureToml, "production").vars,
    );
    expect(Object.fromEntries(analyticsRows(output))).toEqual({ [ANALYTICS_BINDING]: ANALYTICS_DATASET });
  }, 120_000);
});
