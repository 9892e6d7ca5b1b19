/**
 * The `prestart`, `pretest`, `prebench` and `preevent` npm scripts: stops at once, in one line, on a
 * Node older than package.json's `engines.node` (the one place the range is written). Without it an
 * old Node fails later and obscurely (vitest on Node 20: `Map.groupBy is not a function`).
 *
 * It runs on the Node it checks, so it is plain JavaScript with no dependencies and no syntax newer
 * than Node 14.0 (no `??=`, no top-level await, no `node:` import specifiers).
 *
 * CHECK_NODE_VERSION: a version (e.g. 20.1.0) to judge instead of this Node's; for
 * test/scripts/check-node.test.ts only, which proves the refusal under any Node.
 */
// biome-ignore-all lint/style/useNodejsImportProtocol: Node before 14.18 cannot import `node:` specifiers, and this file must run there to say so.
// biome-ignore-all lint/complexity/useOptionalChain: test/scripts/check-node.test.ts holds this file to syntax esbuild leaves as written for Node 14.0, and esbuild rewrites `?.` for anything before Node 16.1 (a V8 bug in early versions).
import { readFileSync, realpathSync } from "fs";
import { fileURLToPath, pathToFileURL } from "url";

/**
 * What the message recommends beyond the minimum: the Lambdas run Node 24
 * (cdk/lib/constructs/edge-function.ts) and CI tests on it (.ci/run).
 */
export const RECOMMENDED_NODE = "Node 24";

export class NodeRangeError extends Error {
  constructor(message) {
    super(message);
    this.name = "NodeRangeError";
  }
}

/** `22.12.0` (or `v22.12.0`, or a prerelease) as [major, minor, patch]; undefined when it is none. */
export function parseVersion(text) {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(String(text).trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(left, right) {
  for (let index = 0; index < 3; index += 1) {
    if (left[index] !== right[index]) return left[index] < right[index] ? -1 : 1;
  }
  return 0;
}

/** A partial version (`22`, `22.12`, `22.x`, `*`) as its numbers and how many were given. */
function parsePartial(text, range) {
  if (text === "" || text === "*" || text === "x" || text === "X") return { parts: [0, 0, 0], given: 0 };
  const pieces = text.replace(/^v/, "").split(".");
  const parts = [0, 0, 0];
  let given = 0;
  let wildcard = false;
  for (let index = 0; index < pieces.length; index += 1) {
    const piece = pieces[index];
    if (index > 2) throw new NodeRangeError(`engines.node '${range}': '${text}' has more than three parts`);
    if (piece === "x" || piece === "X" || piece === "*") wildcard = true;
    else if (wildcard || !/^\d+$/.test(piece))
      throw new NodeRangeError(`engines.node '${range}': cannot read '${text}'`);
    else {
      parts[index] = Number(piece);
      given = index + 1;
    }
  }
  return { parts, given };
}

/** The version just past everything `partial` names: 22.12 → 22.13.0, 22 → 23.0.0. */
function pastPartial(partial) {
  const { parts, given } = partial;
  if (given === 1) return [parts[0] + 1, 0, 0];
  if (given === 2) return [parts[0], parts[1] + 1, 0];
  return [parts[0], parts[1], parts[2] + 1];
}

/** One comparator (`>=22.12`, `^22`, `~22.12.1`, `22.x`) as the checks a version must pass. */
function comparatorChecks(token, range) {
  const match = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(token);
  const operator = match[1] || "";
  const partial = parsePartial(match[2], range);
  const { parts, given } = partial;
  const atLeast = (floor) => (version) => compare(version, floor) >= 0;
  const below = (ceiling) => (version) => compare(version, ceiling) < 0;
  if (given === 0) return operator === "<" || operator === ">" ? [() => false] : [];
  switch (operator) {
    case ">=":
      return [atLeast(parts)];
    case ">":
      return [atLeast(pastPartial(partial))];
    case "<":
      return [below(parts)];
    case "<=":
      return [below(pastPartial(partial))];
    case "~":
      return [atLeast(parts), below(given === 1 ? [parts[0] + 1, 0, 0] : [parts[0], parts[1] + 1, 0])];
    case "^": {
      let ceiling;
      if (parts[0] > 0 || given === 1) ceiling = [parts[0] + 1, 0, 0];
      else if (parts[1] > 0 || given === 2) ceiling = [0, parts[1] + 1, 0];
      else ceiling = [0, 0, parts[2] + 1];
      return [atLeast(parts), below(ceiling)];
    }
    default:
      return [atLeast(parts), below(pastPartial(partial))];
  }
}

/**
 * Whether `version` is in the npm semver range `range` (`||` alternatives of space-separated
 * comparators: `>=`, `>`, `<=`, `<`, `=`, `^`, `~`, x-ranges). Throws NodeRangeError on anything else.
 */
export function satisfies(version, range) {
  const parsed = parseVersion(version);
  if (!parsed) throw new NodeRangeError(`'${version}' is not a Node version`);
  if (/\s-\s/.test(range))
    throw new NodeRangeError(`engines.node '${range}': hyphen ranges are not supported`);
  return range.split("||").some((alternative) => {
    const tokens = alternative
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1")
      .split(/\s+/)
      .filter(Boolean);
    const checks = [];
    for (const token of tokens) checks.push(...comparatorChecks(token, range));
    return checks.every((check) => check(parsed));
  });
}

/**
 * The verdict for one Node: undefined when `version` satisfies `range`, else the one line to print.
 * `name` is the package's, `execPath` the Node binary judged.
 */
export function nodeVersionProblem(options) {
  const { name, range, version, execPath } = options;
  if (satisfies(version, range)) return undefined;
  return `${name} needs Node ${range} (${RECOMMENDED_NODE} recommended); this is Node ${String(version).replace(/^v/, "")} (${execPath})`;
}

/** package.json's name and engines.node, read from the project root beside this script. */
export function readEngines(packageJsonUrl) {
  const url = packageJsonUrl || new URL("../package.json", import.meta.url);
  const manifest = JSON.parse(readFileSync(url, "utf8"));
  const range = (manifest.engines || {}).node;
  if (typeof range !== "string" || range.trim() === "")
    throw new NodeRangeError(`${fileURLToPath(url)}: engines.node must be a version range`);
  return { name: String(manifest.name || "this project"), range: range.trim() };
}

function main() {
  try {
    const { name, range } = readEngines();
    const version = process.env.CHECK_NODE_VERSION || process.versions.node;
    const problem = nodeVersionProblem({ name, range, version, execPath: process.execPath });
    if (problem) {
      console.error(problem);
      process.exitCode = 1;
    }
  } catch (error) {
    console.error(`check-node: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

function isEntryPoint() {
  if (!process.argv[1]) return false;
  try {
    return pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch (_error) {
    return false;
  }
}

if (isEntryPoint()) main();
