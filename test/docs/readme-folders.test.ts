/**
 * The README's folder table is how a newcomer finds their way: it must name every folder
 * that holds code, and nothing that is gone.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");

/** Folders that the table describes one level further down. */
const DESCRIBED_INSIDE = ["core", "dev", "lambdas"];

function tableFolders(): string[] {
  const start = readme.indexOf("## What is here");
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/^\| `([^`]+)\/` +\|/gm)].map((match) => match[1] as string);
}

function trackedFolders(): Set<string> {
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter((file) => file.includes("/") && !file.startsWith("."));
  const folders = new Set<string>();
  for (const file of files) {
    const [top, second] = file.split("/");
    if (!top || !existsSync(`${root}${file}`)) continue;
    folders.add(top);
    if (second && DESCRIBED_INSIDE.includes(top) && file.split("/").length > 2)
      folders.add(`${top}/${second}`);
  }
  return folders;
}

describe("README folder table", () => {
  it("names only folders that exist", () => {
    const listed = tableFolders();
    expect(listed.length).toBeGreaterThan(5);
    for (const folder of listed) expect(statSync(`${root}${folder}`).isDirectory(), folder).toBe(true);
  });

  it("names every top-level folder and every folder inside core/, dev/ and lambdas/", () => {
    const listed = new Set(tableFolders());
    // A top folder described row by row inside (dev/, lambdas/) is named by its rows.
    const named = (folder: string) =>
      listed.has(folder) || [...listed].some((row) => row.startsWith(`${folder}/`));
    const missing = [...trackedFolders()].filter((folder) => !named(folder)).sort();
    expect(missing).toEqual([]);
  });
});
