/**
 * scripts/check-node.mjs, the npm pre-scripts' Node check: the verdict as a function, then the
 * script run for real (this Node, a simulated old one, and the machine's /usr/bin/node when there
 * is one), and its syntax held to what an old Node parses.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  NodeRangeError,
  nodeVersionProblem,
  parseVersion,
  readEngines,
  satisfies,
} from "../../scripts/check-node.mjs";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
const scriptPath = fileURLToPath(new URL("../../scripts/check-node.mjs", import.meta.url));
const manifest = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  name: string;
  engines: { node: string };
  scripts: Record<string, string>;
};

/** The check must answer within a second; the margin is for a test machine busy with other suites. */
const MAX_CHECK_MS = 2_000;

function runScript(nodeBinary: string, env: NodeJS.ProcessEnv = {}) {
  const started = Date.now();
  const { CHECK_NODE_VERSION: _ignored, ...inherited } = process.env;
  const run = spawnSync(nodeBinary, [scriptPath], {
    cwd: projectRoot,
    env: { ...inherited, ...env },
    encoding: "utf8",
    timeout: 10_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, ms: Date.now() - started };
}

describe("satisfies", () => {
  it.for([
    [">=22.12", "22.12.0", true],
    [">=22.12", "22.11.9", false],
    [">=22.12", "24.21.0", true],
    [">=22.12", "20.20.2", false],
    [">= 22.12", "v22.12.1", true],
    [">22.12", "22.12.9", false],
    [">22.12", "22.13.0", true],
    ["<=22.12", "22.12.9", true],
    ["<22.12", "22.12.0", false],
    ["^22.12", "22.99.0", true],
    ["^22.12", "23.0.0", false],
    ["^0.2.3", "0.3.0", false],
    ["~22.12.1", "22.12.5", true],
    ["~22.12.1", "22.13.0", false],
    ["22.x", "22.0.0", true],
    ["22", "23.0.0", false],
    ["^20.17 || >=22.9", "20.18.0", true],
    ["^20.17 || >=22.9", "21.0.0", false],
    [">=22.12 <25", "25.0.0", false],
    ["*", "0.10.0", true],
    [">=22.12", "24.0.0-nightly2026", true],
  ] as const)("%s with %s: %s", ([range, version, expected]) => {
    expect(satisfies(version, range)).toBe(expected);
  });

  it("refuses what it cannot read instead of guessing", () => {
    expect(() => satisfies("22.12.0", ">=22.x.y")).toThrow(NodeRangeError);
    expect(() => satisfies("22.12.0", "20 - 24")).toThrow(/hyphen ranges/);
    expect(() => satisfies("twenty", ">=22")).toThrow(/'twenty' is not a Node version/);
    expect(parseVersion("v20.20.2")).toEqual([20, 20, 2]);
  });
});

describe("nodeVersionProblem", () => {
  it("is silent on a Node in range and names both versions and the binary otherwise", () => {
    const base = { name: "gpu-edge-cache", range: ">=22.12", execPath: "/usr/bin/node" };
    expect(nodeVersionProblem({ ...base, version: "24.21.0" })).toBeUndefined();
    expect(nodeVersionProblem({ ...base, version: "v20.20.2" })).toBe(
      "gpu-edge-cache needs Node >=22.12 (Node 24 recommended); this is Node 20.20.2 (/usr/bin/node)",
    );
  });

  it("reads the range from package.json's engines.node", () => {
    expect(readEngines()).toEqual({ name: manifest.name, range: manifest.engines.node });
  });
});

describe("scripts/check-node.mjs", () => {
  it("guards every command that would otherwise fail obscurely on an old Node", () => {
    for (const script of ["prestart", "pretest", "prebench", "preevent"])
      expect(manifest.scripts[script], script).toBe("node scripts/check-node.mjs");
  });

  it("exits 0 and prints nothing under this Node", () => {
    expect(satisfies(process.versions.node, manifest.engines.node)).toBe(true);
    expect(runScript(process.execPath)).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });

  it("exits 1 with one line under a Node too old (CHECK_NODE_VERSION simulates one)", () => {
    const run = runScript(process.execPath, { CHECK_NODE_VERSION: "20.1.0" });
    expect(run).toMatchObject({
      status: 1,
      stdout: "",
      stderr: `${manifest.name} needs Node ${manifest.engines.node} (Node 24 recommended); this is Node 20.1.0 (${process.execPath})\n`,
    });
    expect(run.ms).toBeLessThan(MAX_CHECK_MS);
  });

  // /usr/bin/node is whatever the machine ships (Node 20 on the development images): each Node
  // present gets the verdict the function gives for its own version, printed by itself.
  const binaries = [process.execPath, ...(existsSync("/usr/bin/node") ? ["/usr/bin/node"] : [])];
  it.for(binaries)("gives %s the verdict for its own version", (binary) => {
    const version = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "");
    const problem = nodeVersionProblem({
      name: manifest.name,
      range: manifest.engines.node,
      version,
      execPath: realpathSync(binary),
    });
    const run = runScript(binary);
    expect(run).toMatchObject(
      problem === undefined
        ? { status: 0, stdout: "", stderr: "" }
        : { status: 1, stdout: "", stderr: `${problem}\n` },
    );
    expect(run.ms).toBeLessThan(MAX_CHECK_MS);
  });

  it("uses no syntax newer than Node 14.0 (esbuild leaves it exactly as written for that target)", () => {
    const source = readFileSync(scriptPath, "utf8");
    const asWritten = transformSync(source, { target: "esnext", format: "esm" }).code;
    expect(transformSync(source, { target: "node14.0", format: "esm" }).code).toBe(asWritten);
  });
});
