/**
 * Runs one of the project's TypeScript entry points as npm would (Node with tsx as a loader), to
 * its end, and hands back what it printed. Asynchronous on purpose: a server the script talks to
 * may live in the test's own process. A run past `timeoutMs` is killed and fails the test.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { within } from "./within";

const projectRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ScriptRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runScript(
  script: string,
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly timeoutMs?: number },
): Promise<ScriptRun> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: projectRoot,
    env: options.env,
  });
  return within(runToEnd(child), options.timeoutMs ?? 20_000, `${script} ${args.join(" ")}`).finally(() =>
    child.kill(),
  );
}

/** What a child printed, once it has closed; its output drains meanwhile, so it never blocks on a write. */
export function runToEnd(child: ChildProcessWithoutNullStreams): Promise<ScriptRun> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<ScriptRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
