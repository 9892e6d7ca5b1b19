/**
 * Streams on the emulator: trimming removes exactly what Redis 7.0 removes (`~` only whole
 * nodes of 100 entries or 4 KB, as Redis lays them out), and XINFO STREAM's Redis 7
 * fields follow adds, deletes and trims. Random workloads run on both the emulator and the
 * real server and are compared step by step.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisBackend } from "../../../../dev/bridge/backend";
import { RedisEmulator } from "../../../../dev/bridge/emulator/emulator";
import type { Reply } from "../../../../dev/bridge/emulator/reply";
import { freshPrefix, openEmulator, openReference, runAll, type TextCommand } from "./reference";

/** XINFO STREAM as a field → value map (radix-tree-nodes left out: the emulator does not model the tree's inner nodes). */
function info(reply: Reply): Record<string, unknown> {
  const fields = reply as Reply[];
  const map: Record<string, unknown> = {};
  for (let i = 0; i < fields.length; i += 2) map[fields[i] as string] = fields[i + 1];
  delete map["radix-tree-nodes"];
  return map;
}

describe("stream trimming and XINFO STREAM on the emulator", () => {
  it("MAXLEN ~ removes whole nodes of 100 entries; = trims to the exact length", () => {
    const emulator = new RedisEmulator();
    try {
      for (let i = 1; i <= 250; i++) emulator.execute(["XADD", "log", `${i}-1`, "n", String(i)]);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 250,
        "radix-tree-keys": 3,
        "entries-added": 250,
      });
      // The first node goes (150 left ≥ 100); the second cannot (50 < 100): 150 stay.
      expect(emulator.execute(["XTRIM", "log", "MAXLEN", "~", "100"])).toBe(100);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 150,
        "radix-tree-keys": 2,
        "last-generated-id": "250-1",
        "max-deleted-entry-id": "0-0",
        "entries-added": 250,
        "recorded-first-entry-id": "101-1",
        "first-entry": ["101-1", ["n", "101"]],
        "last-entry": ["250-1", ["n", "250"]],
      });
      expect(emulator.execute(["XTRIM", "log", "MAXLEN", "=", "120"])).toBe(30);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 120,
        "recorded-first-entry-id": "131-1",
        "max-deleted-entry-id": "0-0",
      });
    } finally {
      emulator.close();
    }
  });

  it("XDEL moves max-deleted-entry-id and the recorded first id; trimming moves neither the maximum nor entries-added", () => {
    const emulator = new RedisEmulator();
    try {
      for (let i = 1; i <= 5; i++) emulator.execute(["XADD", "log", `${i}-0`, "tags", `t${i}`]);
      expect(emulator.execute(["XDEL", "log", "3-0", "1-0", "9-0"])).toBe(2);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 3,
        "max-deleted-entry-id": "3-0",
        "entries-added": 5,
        "recorded-first-entry-id": "2-0",
        "first-entry": ["2-0", ["tags", "t2"]],
      });
      expect(emulator.execute(["XTRIM", "log", "MINID", "5-0"])).toBe(2);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 1,
        "max-deleted-entry-id": "3-0",
        "entries-added": 5,
        "recorded-first-entry-id": "5-0",
      });
      // An emptied stream stays, with its history.
      expect(emulator.execute(["XDEL", "log", "5-0"])).toBe(1);
      expect(info(emulator.execute(["XINFO", "STREAM", "log"]))).toMatchObject({
        length: 0,
        "radix-tree-keys": 0,
        "last-generated-id": "5-0",
        "max-deleted-entry-id": "5-0",
        "entries-added": 5,
        "recorded-first-entry-id": "0-0",
        "first-entry": null,
        "last-entry": null,
      });
      expect(emulator.execute(["TYPE", "log"])).toEqual({ text: "stream" });
      expect(emulator.execute(["XADD", "log", "5-0", "f", "v"])).toMatchObject({
        message: "ERR The ID specified in XADD is equal or smaller than the target stream top item",
      });
    } finally {
      emulator.close();
    }
  });

  it("XADD * takes the injected clock's time, and the sequence when time stands still", () => {
    let now = 1_700_000_000_000;
    const emulator = new RedisEmulator({ clock: () => now });
    try {
      expect(emulator.execute(["XADD", "log", "*", "f", "1"])).toBe("1700000000000-0");
      expect(emulator.execute(["XADD", "log", "*", "f", "2"])).toBe("1700000000000-1");
      now -= 5_000;
      expect(emulator.execute(["XADD", "log", "*", "f", "3"])).toBe("1700000000000-2");
      now += 10_000;
      expect(emulator.execute(["XADD", "log", "*", "f", "4"])).toBe("1700000005000-0");
    } finally {
      emulator.close();
    }
  });
});

/** A small deterministic PRNG (mulberry32), so a failing workload can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** XADD / XTRIM / XDEL in random order: field sets that vary (master-field compression), values of every listpack size class. */
function workload(key: string, seed: number, steps: number): TextCommand[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const commands: TextCommand[] = [];
  let ms = 1;
  const ids: string[] = [];
  const value = () =>
    pick([
      () => String(Math.floor(next() * 200)),
      () => String(Math.floor(next() * 1e13)),
      () => "x".repeat(Math.floor(next() * 70)),
      () => "y".repeat(60 + Math.floor(next() * 300)),
      () => `tag-${Math.floor(next() * 9)} tag-${Math.floor(next() * 9)}`,
    ])();
  for (let step = 0; step < steps; step++) {
    const roll = next();
    if (roll < 0.8) {
      ms += Math.floor(next() * 3);
      const id = `${ms}-${Math.floor(next() * 4)}`;
      const fields = pick([
        ["tags", value(), "event", value(), "at", value()],
        ["tags", value(), "event", value(), "at", value()],
        ["other", value()],
      ]);
      const trim = pick([
        [],
        [],
        ["MAXLEN", "~", String(50 + Math.floor(next() * 150))],
        ["MAXLEN", "=", String(100 + Math.floor(next() * 100))],
        ["MINID", "~", `${Math.max(1, ms - 300)}-0`],
      ]);
      commands.push(["XADD", key, ...trim, id, ...fields]);
      ids.push(id);
    } else if (roll < 0.9 && ids.length > 0) {
      commands.push(["XDEL", key, pick(ids), pick(ids)]);
    } else if (roll < 0.95) {
      commands.push(["XTRIM", key, "MAXLEN", pick(["~", "="]), String(Math.floor(next() * 250))]);
    } else {
      commands.push(["XTRIM", key, "MINID", "~", `${Math.max(1, ms - Math.floor(next() * 400))}-0`]);
    }
    if (step % 25 === 24) commands.push(["XINFO", "STREAM", key], ["XLEN", key]);
  }
  commands.push(["XINFO", "STREAM", key], ["XRANGE", key, "-", "+"]);
  return commands;
}

describe("streams under random workloads: the emulator and redis-server agree on every reply", () => {
  let reference: RedisBackend;
  beforeAll(async () => {
    reference = await openReference();
  });
  afterAll(async () => {
    await reference?.close();
  });

  it.for([1, 2, 3, 4, 5, 6])("seed %i", async (seed) => {
    const emulator = openEmulator();
    try {
      const commands = workload(freshPrefix("stream"), seed, 1500);
      const dropRadixNodes = (outcomes: Awaited<ReturnType<typeof runAll>>) =>
        outcomes.map((outcome, i) => {
          if (commands[i]?.[0] !== "XINFO" || !("ok" in outcome) || !Array.isArray(outcome.ok))
            return outcome;
          const fields = [...outcome.ok];
          fields.splice(fields.indexOf("radix-tree-nodes"), 2);
          return { step: i, ok: fields };
        });
      const expected = dropRadixNodes(await runAll(reference, commands));
      expect(dropRadixNodes(await runAll(emulator, commands))).toEqual(expected);
    } finally {
      await emulator.close();
    }
  });
});
