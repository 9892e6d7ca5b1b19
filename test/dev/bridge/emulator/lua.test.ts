/**
 * Scripts on the emulator convert values between Lua and Redis, raise errors and sandbox
 * globals as redis-server 7.0 does: each script runs on both and the replies (or error
 * texts, which name the script's SHA-1 and line) must be the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedisBackend } from "../../../../dev/bridge/backend";
import { RedisEmulator } from "../../../../dev/bridge/emulator/emulator";
import { ErrorReply } from "../../../../dev/bridge/emulator/reply";
import { freshPrefix, openEmulator, openReference, runAll, type TextCommand, withPrefix } from "./reference";

interface ScriptCase {
  readonly name: string;
  /** Run first, on both. */
  readonly setup?: readonly TextCommand[];
  readonly script: string;
  readonly keys?: readonly string[];
  readonly args?: readonly string[];
}

const SCRIPTS: readonly ScriptCase[] = [
  // Lua → Redis
  { name: "a float is truncated to an integer", script: "return {3.99, -3.99, 0.5, 2^53, 1e15}" },
  { name: "booleans: true is 1, false is nil", script: "return {true, false, 'after false'}" },
  { name: "a table stops at its first nil", script: "return {1, 2, nil, 3}" },
  { name: "nested tables at every depth", script: "return {'a', {'b', {'c', {1, {}}}}}" },
  { name: "nil is a nil reply", script: "return nil" },
  { name: "a status table is a status reply", script: "return {ok = 'FINE'}" },
  { name: "status_reply", script: "return redis.status_reply('ALL GOOD')" },
  { name: "an err table is an error reply", script: "return {err = 'MYCODE something failed'}" },
  { name: "error_reply with a code", script: "return redis.error_reply('MY err')" },
  { name: "error_reply without a code gets ERR", script: "return redis.error_reply('boom')" },
  { name: "error_reply with a dash", script: "return redis.error_reply('-OOPS it broke')" },
  {
    name: "error_reply with line breaks",
    script: "return {redis.error_reply('\\r\\nline\\r\\nbreaks\\n'), 1}",
  },
  { name: "error_reply with no argument", script: "return redis.error_reply()" },
  { name: "errors and statuses inside an array", script: "return {1, {err = 'ERR inner'}, {ok = 'OK'}}" },
  { name: "a double table is its %.17g text", script: "return {double = 0.1}" },
  { name: "a map table is flattened", script: "return {map = {only = 'one'}}" },
  { name: "strings keep every byte", script: "return ARGV[1] .. '\\0' .. ARGV[1]", args: ["\xff\r\n\x00é"] },
  // Redis → Lua
  {
    name: "integer replies are numbers",
    setup: [["SET", "{p}:n", "41"]],
    script: "local n = redis.call('INCR', KEYS[1]) return {type(n), n * 2}",
    keys: ["{p}:n"],
  },
  {
    name: "a missing key is false",
    script: "local v = redis.call('GET', KEYS[1]) return {type(v), tostring(v)}",
    keys: ["{p}:missing"],
  },
  {
    name: "a status reply is a table with ok",
    script:
      "local s = redis.call('SET', KEYS[1], 'v') return {type(s), s.ok, redis.call('TYPE', KEYS[1]).ok}",
    keys: ["{p}:s"],
  },
  {
    name: "arrays are tables, nil elements false",
    setup: [["SET", "{p}:a", "1"]],
    script: "local r = redis.call('MGET', KEYS[1], KEYS[2]) return {#r, r[1], tostring(r[2])}",
    keys: ["{p}:a", "{p}:b"],
  },
  {
    name: "redis.call raises the error reply: uncaught, it ends the script",
    setup: [["SET", "{p}:s", "x"]],
    script: "redis.call('LPUSH', KEYS[1], 'v')\nreturn 'not reached'",
    keys: ["{p}:s"],
  },
  {
    name: "pcall catches a redis.call error as its message",
    setup: [["SET", "{p}:s", "x"]],
    script: "local ok, e = pcall(redis.call, 'LPUSH', KEYS[1], 'v') return {tostring(ok), type(e), e}",
    keys: ["{p}:s"],
  },
  {
    name: "redis.pcall returns the error as a table",
    setup: [["SET", "{p}:s", "x"]],
    script: "local e = redis.pcall('LPUSH', KEYS[1], 'v') return {type(e), e.err}",
    keys: ["{p}:s"],
  },
  { name: "redis.pcall's error returned whole is the error reply", script: "return redis.pcall('GET')" },
  // Errors raised in scripts
  { name: "error() with a string", script: "local x = 1\nerror('boom')" },
  { name: "error() with a table", script: "error({err = 'CUSTOM went wrong'})" },
  { name: "a runtime error on line 3", script: "local a = 1\nlocal b = 2\nreturn a + {}" },
  { name: "an unknown command", script: "return redis.call('NOSUCHCMD', 'x')" },
  { name: "a wrong number of arguments", script: "return redis.call('GET')" },
  { name: "a command scripts may not run", script: "return redis.call('EVAL', 'return 1', '0')" },
  { name: "no command at all", script: "return redis.call()" },
  { name: "an argument that is not a string or number", script: "return redis.call('SET', 'k', {})" },
  { name: "a library function given a bad argument", script: "local s = 'x'\nreturn string.sub()" },
  { name: "math.floor given nothing", script: "return math.floor()" },
  // Sandbox
  { name: "reading an unknown global", script: "return undefined_name" },
  { name: "writing a global", script: "leaked = 1" },
  { name: "writing into a library", script: "string.extra = 1" },
  { name: "rawset on the globals", script: "rawset(_G, 'x', 1) return 1" },
  { name: "locals and KEYS work", script: "local t = {} t.x = KEYS[1] return t.x", keys: ["{p}:k"] },
  {
    name: "the 5.1 library set",
    script:
      "return {type(unpack), type(loadstring), type(table.getn), type(math.pow), tostring(math.type), tostring(os), _VERSION}",
  },
  { name: "os is not there", script: "return os.time()" },
  // Numbers as Lua 5.1 has them: doubles only
  {
    name: "arithmetic past 32 bits",
    script: "return {60000 * 50000, 2^31 + 1, tonumber(ARGV[1]) * 1000}",
    args: ["3000000000"],
  },
  {
    name: "numbers print with %.14g",
    script:
      "return {tostring(10 / 2), tostring(2^53), tostring(1e100), tostring(0.1), tostring(1/0), tostring(-1/0), 7 .. '', tostring(123456789012345678)}",
  },
  {
    name: "string.format's integer conversions truncate",
    script:
      "return string.format('%d|%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%c|%i', 2.5, 1700000000000, 42, 42, -42, 5, 255, 255, 8, 65, -2.9)",
  },
  {
    name: "string.format's other conversions",
    script: "return string.format('%5.1f|%s|%5s|%.2s|%g|%%|%e', 3.14159, 'str', 'ab', 'abc', 0.5, 12345.678)",
  },
  {
    name: "math.floor and ceil give numbers",
    script: "return {math.floor(3.7), math.ceil(3.2), math.floor(-3.5) .. ''}",
  },
  {
    name: "a numeric command argument is sent as %.17g",
    script: "redis.call('SET', KEYS[1], 0.1) return redis.call('GET', KEYS[1])",
    keys: ["{p}:f"],
  },
  {
    name: "select, unpack, string.sub with fractions",
    script: "return {select('#', 1, nil, 3), unpack({1, 2, 3}, 2), string.sub('abcdef', 2.5, 4.9)}",
  },
  { name: "string.rep and byte", script: "return {string.rep('ab', 3), string.byte('A'), #'héllo'}" },
  // Libraries
  { name: "cjson.encode", script: "return cjson.encode({'a/b', 1.5, 1e20, 0.1, true, {}, 'é\\n\\1'})" },
  { name: "cjson.encode of an object", script: "return cjson.encode({only = {nested = 'value'}})" },
  { name: "cjson.encode of a sparse array", script: "return cjson.encode({[1] = 1, [3] = 3})" },
  {
    name: "cjson.encode refuses an excessively sparse array",
    script: "return cjson.encode({[1] = 1, [20] = 3})",
  },
  {
    name: "cjson.decode",
    script:
      "local v = cjson.decode(ARGV[1]) return {v.a[1], v.a[3].b == cjson.null and 'null' or 'not', v.s, tostring(v.n), v.t and 'yes' or 'no'}",
    args: ['{"a":[1,2,{"b":null}],"s":"x\\u00e9\\ud83d\\ude00","n":12345678901234567890,"t":true}'],
  },
  { name: "cjson.decode of bad JSON", script: "return cjson.decode('bad')" },
  { name: "redis.sha1hex", script: "return {redis.sha1hex(''), redis.sha1hex('abc')}" },
  {
    name: "bit",
    script:
      "return {bit.band(0xFF, 0x0F), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tohex(-1), bit.tohex(255, -4), bit.tobit(2^32 + 1), bit.bnot(0)}",
  },
];

describe("Lua on the emulator matches redis-server 7.0", () => {
  let reference: RedisBackend;
  beforeAll(async () => {
    reference = await openReference();
  });
  afterAll(async () => {
    await reference?.close();
  });

  it.for(SCRIPTS)("$name", async ({ setup = [], script, keys = [], args = [] }) => {
    const emulator = openEmulator();
    try {
      const [commands] = [
        withPrefix([...setup, ["EVAL", script, String(keys.length), ...keys, ...args]], freshPrefix("lua")),
      ];
      const expected = await runAll(reference, commands);
      expect(await runAll(emulator, commands)).toEqual(expected);
    } finally {
      await emulator.close();
    }
  });
});

describe("Lua on the emulator: what a single Redis cannot show", () => {
  it("no global a script writes through rawset is seen by the next script", () => {
    const emulator = new RedisEmulator();
    try {
      expect(
        emulator.execute(["EVAL", "local ok = pcall(rawset, _G, 'leak', 1) return tostring(ok)", "0"]),
      ).toBe("false");
      expect(emulator.execute(["EVAL", "return tostring(rawget(_G, 'leak'))", "0"])).toBe("nil");
      // KEYS and ARGV are the current run's, never the previous one's.
      emulator.execute(["EVAL", "return KEYS[1]", "1", "first"]);
      expect(emulator.execute(["EVAL", "return tostring(KEYS[1]) .. tostring(ARGV[1])", "0"])).toBe("nilnil");
    } finally {
      emulator.close();
    }
  });

  it("a script that does not compile is refused with Redis's prefix and Lua's message", () => {
    const emulator = new RedisEmulator();
    try {
      // Lua 5.3's parser words some messages its own way (5.1 quotes '<eof>'), so only the form is held.
      const reply = emulator.execute(["EVAL", "return 'unterminated", "0"]);
      expect((reply as ErrorReply).message).toMatch(
        /^ERR Error compiling script \(new function\): user_script:1: unfinished string near/,
      );
      expect(emulator.execute(["SCRIPT", "LOAD", "local = 1"])).toBeInstanceOf(ErrorReply);
    } finally {
      emulator.close();
    }
  });

  it("a script that runs past the time limit is stopped with an error, and the emulator serves on", () => {
    let now = 1_000_000;
    // Every clock read moves time on, so the instruction hook sees the limit pass without a wait.
    const emulator = new RedisEmulator({ clock: () => (now += 10), scriptTimeoutMs: 1_000 });
    try {
      const reply = emulator.execute(["EVAL", "while true do end", "0"]);
      expect(reply).toBeInstanceOf(ErrorReply);
      expect((reply as ErrorReply).message).toMatch(
        /^ERR Script ran longer than 1000 ms and was stopped by the emulator script: [0-9a-f]{40}, on @user_script:1\.$/,
      );
      expect(emulator.execute(["EVAL", "return 'still serving'", "0"])).toBe("still serving");
    } finally {
      emulator.close();
    }
  });

  it("redis.log goes to the injected logger, level and message", () => {
    const logged: Array<[number, string]> = [];
    const emulator = new RedisEmulator({ log: (level, message) => logged.push([level, message]) });
    try {
      emulator.execute(["EVAL", "redis.log(redis.LOG_WARNING, 'disk', 'almost', 'full') return 1", "0"]);
      expect(logged).toEqual([[3, "disk almost full"]]);
      const reply = emulator.execute(["EVAL", "redis.log(9, 'x')", "0"]);
      expect((reply as ErrorReply).message).toMatch(/^ERR Invalid debug level\. script: /);
    } finally {
      emulator.close();
    }
  });

  it("SCRIPT FLUSH forgets every script; EVALSHA then answers NOSCRIPT", () => {
    const emulator = new RedisEmulator();
    try {
      const sha = emulator.execute(["SCRIPT", "LOAD", "return 'loaded'"]) as string;
      expect(emulator.execute(["EVALSHA", sha, "0"])).toBe("loaded");
      expect(emulator.execute(["EVALSHA", sha.toUpperCase(), "0"])).toBe("loaded");
      expect(emulator.execute(["SCRIPT", "EXISTS", sha, "0".repeat(40)])).toEqual([1, 0]);
      emulator.execute(["SCRIPT", "FLUSH"]);
      expect(emulator.execute(["EVALSHA", sha, "0"])).toEqual(
        new ErrorReply("NOSCRIPT No matching script. Please use EVAL."),
      );
    } finally {
      emulator.close();
    }
  });
});
