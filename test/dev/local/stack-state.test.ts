/**
 * The state file `npm start` leaves for `npm run event` (dev/local/stack-state.ts): written whole,
 * read back or refused with the bad field named, removed only by its owner, and the rules for
 * which URLs a sender uses.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_WEBHOOK_SECRET } from "../../../dev/local/stack";
import {
  DEFAULT_STACK_STATE_PATH,
  eventCommand,
  isProcessAlive,
  readStackState,
  removeStackState,
  resolveStackTargets,
  type StackState,
  StackStateError,
  stackStateOf,
  stackStatePath,
  writeStackState,
} from "../../../dev/local/stack-state";

const projectRoot = fileURLToPath(new URL("../../..", import.meta.url));

const urls = {
  edge: "http://127.0.0.1:40001",
  worker: "http://127.0.0.1:40002",
  originCache: "http://127.0.0.1:40003",
  events: "http://127.0.0.1:40004/v1/events",
  cloudflareFake: "http://127.0.0.1:40005/_fake/purges",
  cloudfrontFake: "http://127.0.0.1:40006/_fake/purges",
  sqsFake: "http://127.0.0.1:40007/_fake/queues",
  origin: "http://127.0.0.1:40008",
  redisRest: "http://127.0.0.1:40009",
  redis: "redis://127.0.0.1:40010",
};

function sampleState(pid = process.pid, customWebhookSecret = false): StackState {
  return stackStateOf(
    { urls, services: [{ name: "edge", url: urls.edge }] },
    { pid, startedAt: new Date("2026-01-02T03:04:05.000Z"), customWebhookSecret },
  );
}

function scratchFile(): string {
  return join(mkdtempSync(join(tmpdir(), "stack-state-")), "state.json");
}

/** A pid that was in use a moment ago and is not now (the process exited). */
function exitedPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid;
}

describe("the state file", () => {
  it("lives in the project root, git-ignored, unless LOCAL_STACK_STATE names another", () => {
    expect(DEFAULT_STACK_STATE_PATH).toBe(join(projectRoot, ".local-stack.json"));
    expect(stackStatePath({})).toBe(DEFAULT_STACK_STATE_PATH);
    expect(stackStatePath({ LOCAL_STACK_STATE: "/tmp/elsewhere.json" })).toBe("/tmp/elsewhere.json");
    // Exit 0 with every path echoed: each is ignored.
    const names = [".local-stack.json", `.local-stack.json.${process.pid}.tmp`];
    const ignored = spawnSync("git", ["check-ignore", ...names], { cwd: projectRoot, encoding: "utf8" });
    expect([ignored.status, ignored.stdout.trim().split("\n")]).toEqual([0, names]);
  });

  it("reads back what was written, leaves no temporary file, and holds no secret", () => {
    const path = scratchFile();
    writeStackState(path, sampleState());
    expect(readStackState(path)).toEqual(sampleState());
    expect(readdirSync(join(path, ".."))).toEqual(["state.json"]);
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain(DEFAULT_WEBHOOK_SECRET);
    expect(text).not.toMatch(/whsec_|token/i);
    expect(JSON.parse(text)).toMatchObject({
      format: 1,
      pid: process.pid,
      webhookSecret: "development-default",
    });
  });

  it("replaces an older file whole", () => {
    const path = scratchFile();
    writeStackState(path, sampleState(1234));
    writeStackState(path, sampleState(process.pid, true));
    expect(readStackState(path)).toMatchObject({ pid: process.pid, webhookSecret: "custom" });
  });

  it("is absent (undefined) when there is no file, and refused naming the path and field when unreadable", () => {
    const path = scratchFile();
    expect(readStackState(path)).toBeUndefined();
    writeFileSync(path, "{ not json");
    expect(() => readStackState(path)).toThrow(
      new StackStateError(`${path} is not JSON: remove it and run npm start again`),
    );
    writeFileSync(path, JSON.stringify({ ...sampleState(), urls: { ...urls, events: "nowhere" } }));
    expect(() => readStackState(path)).toThrow(/is not a state file this checkout reads \(urls\.events: /);
    writeFileSync(path, JSON.stringify({ ...sampleState(), format: 2 }));
    expect(() => readStackState(path)).toThrow(/\(format: /);
  });

  it("is removed only by the process it names", () => {
    const path = scratchFile();
    writeStackState(path, sampleState(process.pid + 1));
    expect(removeStackState(path, process.pid)).toBe(false);
    expect(existsSync(path)).toBe(true);
    writeStackState(path, sampleState());
    expect(removeStackState(path, process.pid)).toBe(true);
    expect(existsSync(path)).toBe(false);
    expect(removeStackState(path, process.pid)).toBe(false);
  });
});

describe("isProcessAlive", () => {
  it("is true for this process and false for one that has exited", () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(exitedPid())).toBe(false);
  });
});

describe("resolveStackTargets", () => {
  const alive = () => true;

  it("takes every URL from a running stack's file", () => {
    expect(resolveStackTargets({}, { readState: () => sampleState(), isAlive: alive })).toEqual({
      eventsUrl: urls.events,
      originUrl: urls.origin,
      edgeUrl: urls.edge,
      webhookSecret: "development-default",
      statePath: DEFAULT_STACK_STATE_PATH,
    });
  });

  it("lets EVENTS_URL, ORIGIN_URL and EDGE_URL win, each on its own", () => {
    const env = { EVENTS_URL: "http://127.0.0.1:1/v1/events", EDGE_URL: "http://127.0.0.1:3" };
    expect(resolveStackTargets(env, { readState: () => sampleState(), isAlive: alive })).toMatchObject({
      eventsUrl: env.EVENTS_URL,
      originUrl: urls.origin,
      edgeUrl: env.EDGE_URL,
    });
  });

  it("does not read the file when EVENTS_URL and ORIGIN_URL are both set (it may describe another stack)", () => {
    const env = { EVENTS_URL: "http://127.0.0.1:1/v1/events", ORIGIN_URL: "http://127.0.0.1:2" };
    const readState = () => {
      throw new Error("read");
    };
    expect(resolveStackTargets(env, { readState, isAlive: alive })).toEqual({
      eventsUrl: env.EVENTS_URL,
      originUrl: env.ORIGIN_URL,
    });
  });

  it("says to run npm start when there is no file", () => {
    const env = { LOCAL_STACK_STATE: "/tmp/none.json", EVENTS_URL: "http://127.0.0.1:1/v1/events" };
    expect(() => resolveStackTargets(env, { readState: () => undefined, isAlive: alive })).toThrow(
      new StackStateError(
        "no local stack found (/tmp/none.json does not exist): run npm start, or set EVENTS_URL and ORIGIN_URL",
      ),
    );
  });

  it("says the recorded stack is not running when its pid is gone, read for real from a file", () => {
    const path = scratchFile();
    const pid = exitedPid();
    writeStackState(path, sampleState(pid));
    expect(() => resolveStackTargets({ LOCAL_STACK_STATE: path })).toThrow(
      new StackStateError(
        `the local stack recorded in ${path} (pid ${pid}, started 2026-01-02T03:04:05.000Z) is not running: run npm start, or set EVENTS_URL and ORIGIN_URL`,
      ),
    );
  });
});

describe("eventCommand", () => {
  it("carries the settings that found the stack, never the webhook secret", () => {
    expect(eventCommand(["booking.cancelled", "--booking", "bk-000001"], {})).toBe(
      "npm run event -- booking.cancelled --booking bk-000001",
    );
    expect(
      eventCommand(["booking.cancelled", "--booking", "bk-1"], {
        LOCAL_STACK_STATE: "/tmp/my stack's.json",
        EVENTS_URL: "http://127.0.0.1:1/v1/events",
        WEBHOOK_SECRET: "whsec_secret",
      }),
    ).toBe(
      `LOCAL_STACK_STATE='/tmp/my stack'\\''s.json' EVENTS_URL=http://127.0.0.1:1/v1/events npm run event -- booking.cancelled --booking bk-1`,
    );
  });
});
