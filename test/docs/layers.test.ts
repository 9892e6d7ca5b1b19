/**
 * The layering the folders promise, checked from the imports themselves:
 * - product code (core/, workers/, lambdas/, cdk/) never imports dev code (dev/, bench/,
 *   scripts/, test/): what ships must not depend on what only runs here;
 * - core/ imports nothing outside core/ (it is what both runtimes share), and the two
 *   runtimes do not import each other;
 * - no two folders, and no two files, import each other, directly or round a longer
 *   circle, so every folder sits on a layer above the ones it uses.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PRODUCT = ["core", "workers", "lambdas", "cdk"];
const DEV = ["dev", "bench", "scripts", "test"];
/** Top folders whose subfolders are layers of their own. */
const SPLIT = ["core", "dev", "lambdas", "test"];

const sources = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts"], {
  cwd: root,
  encoding: "utf8",
})
  .split("\n")
  .filter((file) => file.includes("/") && existsSync(join(root, file)));

function resolveImport(from: string, specifier: string): string | undefined {
  const base = normalize(join(dirname(from), specifier));
  return [base, `${base}.ts`, `${base}.d.ts`, join(base, "index.ts")].find((candidate) =>
    sources.includes(candidate),
  );
}

/** `core/cache/l1-store.ts` → `core/cache`; `core/keys.ts` → `core`; `workers/app.ts` → `workers`. */
function folderOf(file: string): string {
  const parts = file.split("/");
  const top = parts[0] as string;
  return SPLIT.includes(top) && parts.length > 2 ? `${top}/${parts[1]}` : top;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^"']*?from\s*["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;

const edges: Array<{ from: string; to: string }> = [];
for (const file of sources) {
  for (const match of readFileSync(join(root, file), "utf8").matchAll(IMPORT)) {
    const target = resolveImport(file, (match[1] ?? match[2]) as string);
    if (target) edges.push({ from: file, to: target });
  }
}

const topOf = (file: string) => file.split("/")[0] as string;

/** Tarjan's strongly connected components: every component of two or more nodes is a circle. */
function circlesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const circles: string[][] = [];
  const visit = (node: string) => {
    order.set(node, index);
    low.set(node, index++);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node) as number, order.get(next) as number));
      }
    }
    if (low.get(node) === order.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member) component.push(member);
      } while (member !== node);
      if (component.length > 1) circles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return circles;
}

describe("import layers", () => {
  it("reads the imports of every source file", () => {
    expect(sources.length).toBeGreaterThan(100);
    expect(edges.length).toBeGreaterThan(300);
  });

  it("product code never imports dev code", () => {
    const wrong = edges
      .filter(({ from, to }) => PRODUCT.includes(topOf(from)) && DEV.includes(topOf(to)))
      .map(({ from, to }) => `${from} → ${to}`);
    expect(wrong).toEqual([]);
  });

  it("core imports only core, and the Worker and the Lambdas do not import each other", () => {
    const wrong = edges
      .filter(
        ({ from, to }) =>
          (topOf(from) === "core" && topOf(to) !== "core") ||
          (topOf(from) === "workers" && topOf(to) === "lambdas") ||
          (topOf(from) === "lambdas" && topOf(to) === "workers"),
      )
      .map(({ from, to }) => `${from} → ${to}`);
    expect(wrong).toEqual([]);
  });

  it("no folders import each other round a circle", () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const a = folderOf(from);
      const b = folderOf(to);
      if (a !== b) graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    expect(circlesOf(graph)).toEqual([]);
  });

  it("no files import each other round a circle", () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    expect(circlesOf(graph)).toEqual([]);
  });
});
