/**
 * A clone of this repository is all a reader has: comments and docs cite files inside it
 * (docs/architecture.md, docs/wire-formats.md), never the workspace around it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
  cwd: root,
  encoding: "utf8",
})
  .split("\n")
  .filter((file) => /\.(ts|md|toml|json|vcl)$|^\.ci\/run$/.test(file) && !file.startsWith("bench/results/"))
  .filter((file) => file !== "package-lock.json" && existsSync(join(root, file)));

/** Names of what lives outside the repository; built from parts so this file does not match itself. */
const OUTSIDE = [["..", "shared", ""].join("/"), ["shared", "reference"].join("/"), ["DES", "IGN"].join("")];

describe("citations stay inside the repository", () => {
  it("no file names the workspace outside the repository", () => {
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const file of files) {
      const lines = readFileSync(join(root, file), "utf8").split("\n");
      lines.forEach((line, index) => {
        for (const name of OUTSIDE)
          if (new RegExp(`(^|[^A-Za-z_])${name.replace(/[./]/g, "\\$&")}([^A-Za-z_]|$)`).test(line))
            found.push(`${file}:${index + 1}: ${line.trim()}`);
      });
    }
    expect(found).toEqual([]);
  });

  it("every relative link in the Markdown files points at a file that exists", () => {
    const broken: string[] = [];
    for (const file of files.filter((name) => name.endsWith(".md"))) {
      for (const match of readFileSync(join(root, file), "utf8").matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1] as string;
        if (/^[a-z]+:/i.test(target)) continue;
        const resolved = normalize(join(dirname(file), target));
        if (resolved.startsWith("..") || !existsSync(join(root, resolved))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
