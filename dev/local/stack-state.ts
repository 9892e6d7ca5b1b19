/**
 * Where `npm start` tells the other local commands how to reach it: a JSON file in the project
 * root (git-ignored) with the URLs it printed and its pid. `npm start` writes it once the stack
 * is up and removes it on stop if it is still its own; `npm run event` reads it, so it works on
 * whatever ports the stack took. No secrets are written, only whether the webhook secret is the
 * public development default (then `npm run event` can sign without being told).
 *
 * LOCAL_STACK_STATE names another file (the tests use one each, so a stack the user is running
 * keeps its own).
 */
import { readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { LocalStack } from "./stack";

export const STACK_STATE_ENV = "LOCAL_STACK_STATE";
export const DEFAULT_STACK_STATE_PATH = fileURLToPath(new URL("../../.local-stack.json", import.meta.url));

/** Bumped when a field changes meaning, so a file from an older checkout is refused rather than misread. */
export const STACK_STATE_FORMAT = 1;

const url = z.url();
const stackStateSchema = z.object({
  format: z.literal(STACK_STATE_FORMAT),
  pid: z.number().int().positive(),
  startedAt: z.iso.datetime(),
  /** `custom`: npm start ran with WEBHOOK_SECRET set, which senders must set too. */
  webhookSecret: z.enum(["development-default", "custom"]),
  urls: z.object({
    edge: url,
    worker: url,
    originCache: url,
    events: url,
    cloudflareFake: url,
    cloudfrontFake: url,
    sqsFake: url,
    origin: url,
    redisRest: url,
    redis: z.string().min(1),
    /** Absent when the stack runs without the dashboard; added later, so older files lack it too. */
    dashboard: url.optional(),
  }),
  services: z.array(z.object({ name: z.string().min(1), url: z.string().min(1) })),
});
export type StackState = z.infer<typeof stackStateSchema>;

export class StackStateError extends Error {
  override readonly name = "StackStateError";
}

/** The state file this process uses: LOCAL_STACK_STATE, else `.local-stack.json` in the project root. */
export function stackStatePath(env: NodeJS.ProcessEnv = process.env): string {
  return env[STACK_STATE_ENV] || DEFAULT_STACK_STATE_PATH;
}

export function stackStateOf(
  stack: Pick<LocalStack, "urls" | "services">,
  options: { pid: number; startedAt: Date; customWebhookSecret: boolean },
): StackState {
  return {
    format: STACK_STATE_FORMAT,
    pid: options.pid,
    startedAt: options.startedAt.toISOString(),
    webhookSecret: options.customWebhookSecret ? "custom" : "development-default",
    urls: { ...stack.urls },
    services: stack.services.map(({ name, url }) => ({ name, url })),
  };
}

/** Readers never see half a file: written beside it, then renamed over it. */
export function writeStackState(path: string, state: StackState): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // never created
    }
    throw new StackStateError(`could not write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** The parsed file; undefined when there is none. Throws StackStateError naming the bad field. */
export function readStackState(path: string): StackState | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StackStateError(`could not read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StackStateError(`${path} is not JSON: remove it and run npm start again`);
  }
  const parsed = stackStateSchema.safeParse(json);
  if (!parsed.success)
    throw new StackStateError(
      `${path} is not a state file this checkout reads (${parsed.error.issues
        .map((issue) => `${issue.path.join(".") || "file"}: ${issue.message}`)
        .join("; ")}): remove it and run npm start again`,
    );
  return parsed.data;
}

/**
 * Removes the file if it still names `pid` (a second `npm start` may have replaced it since).
 * Returns whether it did; never throws, as it runs while stopping.
 */
export function removeStackState(path: string, pid: number): boolean {
  try {
    if (readStackState(path)?.pid !== pid) return false;
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface StackTargets {
  readonly eventsUrl: string;
  readonly originUrl: string;
  /** Undefined when neither EDGE_URL nor a state file names one. */
  readonly edgeUrl?: string;
  /** The state file's note on the webhook secret, when it was read. */
  readonly webhookSecret?: StackState["webhookSecret"];
  /** Where the URLs came from, for messages. */
  readonly statePath?: string;
}

/**
 * The URLs a sender uses: EVENTS_URL, ORIGIN_URL and EDGE_URL win; what they leave unset comes
 * from the state file of a running stack. With both EVENTS_URL and ORIGIN_URL set the file is not
 * read at all (it may describe another stack), so the edge is then EDGE_URL or none.
 */
export function resolveStackTargets(
  env: NodeJS.ProcessEnv = process.env,
  dependencies: {
    readState?: (path: string) => StackState | undefined;
    isAlive?: (pid: number) => boolean;
  } = {},
): StackTargets {
  const readState = dependencies.readState ?? readStackState;
  const isAlive = dependencies.isAlive ?? isProcessAlive;
  const fromEnv = {
    eventsUrl: env.EVENTS_URL || undefined,
    originUrl: env.ORIGIN_URL || undefined,
    edgeUrl: env.EDGE_URL || undefined,
  };
  if (fromEnv.eventsUrl && fromEnv.originUrl)
    return {
      eventsUrl: fromEnv.eventsUrl,
      originUrl: fromEnv.originUrl,
      ...(fromEnv.edgeUrl ? { edgeUrl: fromEnv.edgeUrl } : {}),
    };
  const path = stackStatePath(env);
  const state = readState(path);
  if (!state)
    throw new StackStateError(
      `no local stack found (${path} does not exist): run npm start, or set EVENTS_URL and ORIGIN_URL`,
    );
  if (!isAlive(state.pid))
    throw new StackStateError(
      `the local stack recorded in ${path} (pid ${state.pid}, started ${state.startedAt}) is not running: run npm start, or set EVENTS_URL and ORIGIN_URL`,
    );
  return {
    eventsUrl: fromEnv.eventsUrl ?? state.urls.events,
    originUrl: fromEnv.originUrl ?? state.urls.origin,
    edgeUrl: fromEnv.edgeUrl ?? state.urls.edge,
    webhookSecret: state.webhookSecret,
    statePath: path,
  };
}

/** What the shell needs to read `word` back as one argument. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * `npm run event -- <args>` as the user can paste it: with the settings that located the stack in
 * this process (never WEBHOOK_SECRET, which is a secret), so the same stack is reached again.
 */
export function eventCommand(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const settings = [STACK_STATE_ENV, "EVENTS_URL", "ORIGIN_URL", "EDGE_URL"]
    .filter((name) => env[name])
    .map((name) => `${name}=${shellWord(env[name] ?? "")}`);
  return [...settings, "npm run event --", ...args.map(shellWord)].join(" ");
}
