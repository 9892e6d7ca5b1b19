/**
 * Expiry on the emulator, on an injected clock: keys live through their expiry millisecond
 * and are gone after it (Redis's keyIsExpired), TTLs round as Redis rounds them, a script sees
 * one time throughout, and keys nobody reads again are still removed, so memory does not
 * grow with expired keys.
 */
import { describe, expect, it } from "vitest";
import { RedisEmulator } from "../../../../dev/bridge/emulator/emulator";
import { StatusReply } from "../../../../dev/bridge/emulator/reply";

const START = 1_700_000_000_000;

function emulatorAt(start = START) {
  const clock = { now: start };
  const emulator = new RedisEmulator({ clock: () => clock.now });
  return { clock, emulator, run: (...argv: string[]) => emulator.execute(argv) };
}

describe("expiry on the emulator's injected clock", () => {
  it("a PX key lives through its last millisecond and is gone after it", () => {
    const { clock, emulator, run } = emulatorAt();
    try {
      expect(run("SET", "k", "v", "PX", "100")).toEqual(new StatusReply("OK"));
      clock.now += 100;
      expect(run("PTTL", "k")).toBe(0);
      expect(run("GET", "k")).toBe("v");
      clock.now += 1;
      expect(run("GET", "k")).toBeNull();
      expect(run("EXISTS", "k")).toBe(0);
      expect(run("PTTL", "k")).toBe(-2);
    } finally {
      emulator.close();
    }
  });

  it("TTL rounds to the nearest second, PTTL is exact, EXPIRETIME is absolute", () => {
    const { clock, emulator, run } = emulatorAt();
    try {
      run("SET", "k", "v", "EX", "10");
      clock.now += 1_500;
      expect(run("PTTL", "k")).toBe(8_500);
      expect(run("TTL", "k")).toBe(9);
      clock.now += 1;
      expect(run("TTL", "k")).toBe(8);
      expect(run("PEXPIRETIME", "k")).toBe(START + 10_000);
      expect(run("EXPIRETIME", "k")).toBe(Math.floor((START + 10_000) / 1000));
      expect(run("SET", "at", "v", "PXAT", String(START + 5_000))).toEqual(new StatusReply("OK"));
      expect(run("PTTL", "at")).toBe(5_000 - 1_501);
    } finally {
      emulator.close();
    }
  });

  it("EXPIRE in the past removes the key at once; NX, XX, GT and LT compare with the current time", () => {
    const { clock, emulator, run } = emulatorAt();
    try {
      run("SET", "k", "v");
      expect(run("EXPIRE", "k", "100", "XX")).toBe(0);
      expect(run("EXPIRE", "k", "100", "NX")).toBe(1);
      expect(run("PEXPIRE", "k", "50000", "GT")).toBe(0);
      expect(run("PEXPIRE", "k", "150000", "GT")).toBe(1);
      expect(run("PEXPIRE", "k", "120000", "LT")).toBe(1);
      clock.now += 20_000;
      expect(run("TTL", "k")).toBe(100);
      expect(run("PEXPIREAT", "k", String(clock.now))).toBe(1);
      expect(run("EXISTS", "k")).toBe(0);
      run("SET", "n", "v");
      expect(run("EXPIRE", "n", "-1")).toBe(1);
      expect(run("DBSIZE")).toBe(0);
    } finally {
      emulator.close();
    }
  });

  it("writes that replace a value drop its time unless KEEPTTL; changes in place keep it", () => {
    const { emulator, run } = emulatorAt();
    try {
      run("SET", "s", "1", "EX", "100");
      run("INCR", "s");
      run("APPEND", "s", "0");
      expect(run("TTL", "s")).toBe(100);
      run("SET", "s", "x", "KEEPTTL");
      expect(run("TTL", "s")).toBe(100);
      run("SET", "s", "y");
      expect(run("TTL", "s")).toBe(-1);
      run("HSET", "h", "f", "v");
      run("EXPIRE", "h", "100");
      run("HSET", "h", "g", "w");
      expect(run("TTL", "h")).toBe(100);
      expect(run("PERSIST", "h")).toBe(1);
      expect(run("TTL", "h")).toBe(-1);
      expect(run("PERSIST", "h")).toBe(0);
    } finally {
      emulator.close();
    }
  });

  it("a script sees the time it started at, however long it runs", () => {
    let now = START;
    // Every read of the clock moves it 10 ms on: the key would expire between the script's commands.
    const emulator = new RedisEmulator({ clock: () => (now += 10) });
    try {
      emulator.execute(["SET", "k", "v", "PX", "15"]);
      const script =
        "local a = redis.call('EXISTS', KEYS[1]) for i = 1, 300000 do end return {a, redis.call('EXISTS', KEYS[1])}";
      expect(emulator.execute(["EVAL", script, "1", "k"])).toEqual([1, 1]);
      expect(emulator.execute(["EXISTS", "k"])).toBe(0);
    } finally {
      emulator.close();
    }
  });

  it("TIME answers the injected clock, in seconds and microseconds", () => {
    const { emulator, run } = emulatorAt(START + 1_234);
    try {
      expect(run("TIME")).toEqual([String(Math.floor((START + 1_234) / 1000)), "234000"]);
    } finally {
      emulator.close();
    }
  });

  it("expired keys nobody reads again are removed by the commands that follow", () => {
    const { clock, emulator, run } = emulatorAt();
    try {
      for (let i = 0; i < 5_000; i++) run("SET", `short:${i}`, "v", "PX", "10");
      run("SET", "kept", "v");
      expect(run("DBSIZE")).toBe(5_001);
      clock.now += 11;
      // DBSIZE counts keys not yet removed, as Redis's does: each command samples some of them.
      for (let i = 0; i < 1_000; i++) run("PING");
      expect(run("DBSIZE")).toBe(1);
      expect(run("GET", "kept")).toBe("v");
    } finally {
      emulator.close();
    }
  });

  it("a stream capped with MAXLEN ~ keeps a bounded number of nodes however many entries pass", () => {
    const { emulator, run } = emulatorAt();
    try {
      for (let i = 1; i <= 20_000; i++) run("XADD", "log", "MAXLEN", "~", "100", `${i}-0`, "n", String(i));
      const info = run("XINFO", "STREAM", "log") as unknown[];
      expect(info[info.indexOf("radix-tree-keys") + 1]).toBeLessThanOrEqual(3);
      expect(info[info.indexOf("length") + 1]).toBeLessThan(300);
      expect(info[info.indexOf("entries-added") + 1]).toBe(20_000);
    } finally {
      emulator.close();
    }
  });
});
