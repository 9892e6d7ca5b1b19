/**
 * Deploys the Worker's staging or production environment on its route (README "Deploy"):
 *
 *   WORKER_ROUTE='edge.<your domain>/*' WORKER_ZONE='<your domain>' \
 *     node --import tsx scripts/deploy-worker.ts --env production [wrangler deploy options]
 *
 * wrangler.toml cannot read environment variables and a route differs per deployment, so the
 * route is added here: wrangler.toml is read as wrangler reads it, the environment gets
 * `routes = [{ pattern = WORKER_ROUTE, zone_name = WORKER_ZONE }]` (wrangler's stable config
 * schema; `wrangler deploy --zone` is experimental in the pinned 4.155), and `wrangler deploy`
 * runs on that copy, written to a temporary directory and removed afterwards. Nothing runs
 * while a setting is missing or wrong, the route is outside its zone, or a var of the
 * environment is still an example on a reserved domain (cdk/lib/example-hosts.ts): one error
 * names every problem. Other options (`--dry-run --outdir <dir>`, `--message <text>`) go to
 * wrangler as given; `--config <path>` reads another wrangler.toml.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { experimental_readRawConfig, type Unstable_RawConfig } from "wrangler";
import { EXAMPLE_PROBLEM, hostOfUrl, isExampleHost, notExample } from "../cdk/lib/example-hosts";
import {
  accept,
  type Checked,
  ConfigError,
  combine,
  invalid,
  matching,
  type Rule,
  readSettings,
  refine,
  refuse,
  required,
  type SettingSource,
  valid,
  valueOrThrow,
} from "../core/config";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));
export const DEFAULT_CONFIG_PATH = join(projectRoot, "wrangler.toml");

/** The environments served on a route; development is on workers.dev (`wrangler deploy --env development`). */
export const ROUTED_ENVIRONMENTS = ["staging", "production"] as const;
export type RoutedEnvironment = (typeof ROUTED_ENVIRONMENTS)[number];

export class DeployWorkerConfigError extends ConfigError {
  override readonly name = "DeployWorkerConfigError";
}

export interface WorkerDeploySettings {
  readonly env: RoutedEnvironment;
  /** A Cloudflare route pattern: `[*.]host/path`, e.g. `edge.gpus.example.net/*`. */
  readonly route: string;
  /** The zone (its name) the route belongs to. */
  readonly zone: string;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** The host a route pattern matches, its leading wildcard (`*.` or `*`) dropped. */
export function routeHost(pattern: string): string {
  return pattern.replace(/^\*\.?/, "").split("/")[0] ?? "";
}

const routePattern: Rule<string> = {
  expected: "a route pattern like edge.<your domain>/*: host and path, no scheme",
  parse: (raw) =>
    typeof raw === "string" && /^[^\s:]+\/\S*$/.test(raw) && HOSTNAME.test(routeHost(raw))
      ? accept(raw)
      : refuse(),
};

const SETTINGS = {
  env: required("--env", matching(/^(staging|production)$/, ROUTED_ENVIRONMENTS.join(" or "))),
  route: required("WORKER_ROUTE", notExample(routePattern, routeHost)),
  zone: required("WORKER_ZONE", notExample(matching(HOSTNAME, "the zone's name, e.g. <your domain>"))),
};

/** The settings from `source` (the environment, plus `--env`), checked together. */
export function readDeploySettings(source: SettingSource): Checked<WorkerDeploySettings> {
  const trimmed: SettingSource = (name) => {
    const raw = source(name);
    return typeof raw === "string" ? raw.trim() : raw;
  };
  return refine(readSettings(trimmed, SETTINGS) as Checked<WorkerDeploySettings>, ({ route, zone }) => {
    const host = routeHost(route).toLowerCase();
    const name = zone.toLowerCase();
    // Cloudflare attaches a route to the zone its host is in; another zone rejects it.
    return host === name || host.endsWith(`.${name}`)
      ? []
      : [`WORKER_ROUTE: its host ${routeHost(route)} is not in the zone WORKER_ZONE (${zone})`];
  });
}

/** Top-level keys that hold paths besides `main`: the copy lives elsewhere, so they would break. */
const UNRESOLVED_PATH_KEYS = ["tsconfig", "assets", "site", "build", "base_dir", "rules"] as const;
const ROUTE_KEYS = ["route", "routes"] as const;

/**
 * wrangler.toml's config with `settings.env` given the route, `main` made absolute so the
 * copy works from anywhere; or the problems that make it undeployable.
 */
export function routedConfig(
  raw: Unstable_RawConfig,
  configPath: string,
  settings: WorkerDeploySettings,
): Checked<Unstable_RawConfig> {
  const { env: name, route, zone } = settings;
  const file = relative(process.cwd(), configPath) || configPath;
  const env = raw.env?.[name];
  if (!env) return invalid([`--env: ${file} has no [env.${name}]`]);
  const problems: string[] = [];
  if (typeof raw.main !== "string") problems.push(`${file}: no main`);
  for (const key of UNRESOLVED_PATH_KEYS)
    if (key in raw) problems.push(`${file}: sets ${key}, a path the deploy copy does not resolve`);
  for (const key of ROUTE_KEYS)
    if (key in env)
      problems.push(
        `[env.${name}] ${key} in ${file}: the route comes from WORKER_ROUTE and WORKER_ZONE only`,
      );
  for (const [variable, value] of Object.entries(env.vars ?? {})) {
    const host = typeof value === "string" ? hostOfUrl(value) : undefined;
    if (host !== undefined && isExampleHost(host))
      problems.push(`${variable} ([env.${name}.vars] in ${file}): ${EXAMPLE_PROBLEM}`);
  }
  if (problems.length > 0) return invalid(problems);
  return valid({
    ...raw,
    main: resolve(dirname(configPath), raw.main as string),
    env: { ...raw.env, [name]: { ...env, routes: [{ pattern: route, zone_name: zone }] } },
  });
}

/** Options that would override what this script decides; `--config` is its own. */
const TAKEN_OPTIONS = [
  "--route",
  "--routes",
  "--domain",
  "--domains",
  "--zone",
  "--zones",
  "--zone-id",
  "--zone-ids",
  "--x-route-zones",
  "--experimental-route-zones",
  "--name",
  "--cwd",
];

export interface DeployArguments {
  readonly env: string | undefined;
  readonly configPath: string;
  /** Passed to `wrangler deploy` as given. */
  readonly wranglerArgs: readonly string[];
  readonly problems: readonly string[];
}

export function parseDeployArguments(argv: readonly string[]): DeployArguments {
  let env: string | undefined;
  let configPath = DEFAULT_CONFIG_PATH;
  const wranglerArgs: string[] = [];
  const problems: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => inline ?? argv[++index];
    if (flag === "--env" || flag === "-e") env = value();
    else if (flag === "--config" || flag === "-c") {
      const path = value();
      if (path) configPath = resolve(path);
      else problems.push("--config: missing (a wrangler.toml path)");
    } else if (TAKEN_OPTIONS.includes(flag as string))
      problems.push(`${flag}: not taken; the route comes from WORKER_ROUTE and WORKER_ZONE`);
    else wranglerArgs.push(arg);
  }
  return { env, configPath, wranglerArgs, problems };
}

/**
 * Everything checked, in one error, before anything runs: the arguments, the settings, and
 * the config they apply to.
 */
export function planDeploy(
  argv: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
): { settings: WorkerDeploySettings; config: Unstable_RawConfig; wranglerArgs: readonly string[] } {
  const args = parseDeployArguments(argv);
  const settings = readDeploySettings((name) => (name === "--env" ? args.env : environment[name]));
  const configFound = statSync(args.configPath, { throwIfNoEntry: false })?.isFile()
    ? valid(experimental_readRawConfig({ config: args.configPath }).rawConfig)
    : invalid([`--config: no file ${args.configPath}`]);
  const config =
    settings.ok && configFound.ok
      ? routedConfig(configFound.value, args.configPath, settings.value)
      : valid(undefined);
  const checked = combine({
    args: args.problems.length > 0 ? invalid(args.problems) : valid(undefined),
    settings,
    configFound,
    config,
  });
  const plan = valueOrThrow(
    checked,
    (problems) =>
      new DeployWorkerConfigError(
        "Worker deploy settings (set WORKER_ROUTE and WORKER_ZONE in the environment; --env staging or production)",
        problems,
      ),
  );
  return {
    settings: plan.settings,
    config: plan.config as Unstable_RawConfig,
    wranglerArgs: args.wranglerArgs,
  };
}

function main(): void {
  let plan: ReturnType<typeof planDeploy>;
  try {
    plan = planDeploy(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof DeployWorkerConfigError)) throw error;
    console.error(`deploy-worker: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  const { settings, config, wranglerArgs } = plan;
  const workerName = config.env?.[settings.env]?.name ?? config.name;
  console.error(
    `deploy-worker: ${workerName} (${settings.env}) on route ${settings.route} in zone ${settings.zone}`,
  );
  const directory = mkdtempSync(join(tmpdir(), "deploy-worker-"));
  try {
    const configPath = join(directory, "wrangler.json");
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    const result = spawnSync(
      join(projectRoot, "node_modules/.bin/wrangler"),
      ["deploy", "--config", configPath, "--env", settings.env, ...wranglerArgs],
      { stdio: "inherit" },
    );
    if (result.error) throw result.error;
    process.exitCode = result.status ?? 1;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
