/**
 * The Lua side of EVAL: one Lua state holding the compiled scripts by SHA-1 (as Redis
 * keeps `f_<sha>` functions), each run given fresh globals (prelude.ts), errors worded as
 * Redis 7.0 words them ("ERR user_script:1: … script: <sha>, on @user_script:1.").
 */
import { createHash } from "node:crypto";
import type { Bin } from "../bytes";
import { CommandError } from "../errors";
import { ErrorReply, type Reply } from "../reply";
import { CJSON_NULL, cjsonDecode, cjsonEncode, raise } from "./cjson";
import { type LuaJsFunction, type LuaState, lauxlib, lua, lualib } from "./fengari";
import { floatLiterals } from "./float-literals";
import { luaFormat } from "./format";
import { ceilFunction, floorFunction, randomFunction, tonumberFunction } from "./number-functions";
import { PRELUDE } from "./prelude";
import { argumentOf, binOf, luaBytes, pushBin, pushFieldTable, pushReply, readReply, toBin } from "./values";

/** Runs one command on behalf of the running script; failures come back as ErrorReply. */
export type ScriptCommandRunner = (argv: readonly Bin[]) => Reply;

export interface LuaScriptsOptions {
  /** What the time limit is measured with. */
  readonly clock: () => number;
  /**
   * A script running longer is stopped with an error. Redis would only refuse other clients
   * (BUSY) until SCRIPT KILL; in-process, a runaway script would hang the whole bridge.
   */
  readonly timeoutMs: number;
  /** redis.log(level, message). */
  readonly log: (level: number, message: string) => void;
}

interface CompiledScript {
  readonly ref: number;
  /** `#!lua flags=no-writes`. */
  readonly noWrites: boolean;
}

interface RunState {
  readonly run: ScriptCommandRunner;
  readonly startedAt: number;
}

/** How many Lua instructions between time-limit checks (Redis's busy-script hook uses the same). */
const HOOK_INSTRUCTIONS = 100_000;
const LOG_LEVELS = 4;
const USER_SCRIPT = luaBytes("@user_script");

function sha1Hex(bytes: Uint8Array | string): string {
  return createHash("sha1")
    .update(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes)
    .digest("hex");
}

/** evalExtractShebangFlags: `#!lua [flags=a,b]`. */
function parseShebang(source: Bin): { body: Bin; noWrites: boolean } {
  if (!source.startsWith("#!")) return { body: source, noWrites: false };
  const end = source.indexOf("\n");
  if (end < 0) throw new CommandError("ERR Invalid script shebang");
  const [engine, ...options] = source.slice(0, end).split(/\s+/).filter(Boolean);
  if (engine === undefined) throw new CommandError("ERR Invalid engine in script shebang");
  if (engine !== "#!lua") throw new CommandError(`ERR Unexpected engine in script shebang: ${engine}`);
  let noWrites = false;
  for (const option of options) {
    if (!option.startsWith("flags=")) throw new CommandError(`ERR Unknown lua shebang option: ${option}`);
    for (const flag of option.slice(6).split(",")) {
      if (!["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"].includes(flag)) {
        throw new CommandError(`ERR Unexpected flag in script shebang: ${flag}`);
      }
      if (flag === "no-writes") noWrites = true;
    }
  }
  // The shebang line goes, its line feed stays, so line numbers do not move.
  return { body: source.slice(end), noWrites };
}

export class LuaScripts {
  private L!: LuaState;
  private scripts = new Map<string, CompiledScript>();
  private newEnvRef = 0;
  private handlerRef = 0;
  private current: RunState | undefined;

  constructor(private readonly options: LuaScriptsOptions) {
    this.open();
  }

  /** SCRIPT LOAD / EVAL's compile step: the script's SHA-1, compiling it once. */
  load(source: Bin): string {
    const sha = sha1Hex(source);
    if (this.scripts.has(sha)) return sha;
    const { body, noWrites } = parseShebang(source);
    const code = luaBytes(floatLiterals(body));
    const { L } = this;
    if (lauxlib.luaL_loadbuffer(L, code, code.length, USER_SCRIPT) !== lua.LUA_OK) {
      const message = toBin(L, -1) ?? "";
      lua.lua_pop(L, 1);
      throw new CommandError(`ERR Error compiling script (new function): ${message}`);
    }
    this.scripts.set(sha, { ref: lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX), noWrites });
    return sha;
  }

  exists(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  noWrites(sha: string): boolean {
    return this.scripts.get(sha.toLowerCase())?.noWrites ?? false;
  }

  /** SCRIPT FLUSH: a new Lua state, as Redis's scriptingReset. */
  flush(): void {
    lua.lua_close(this.L);
    this.scripts = new Map();
    this.open();
  }

  close(): void {
    lua.lua_close(this.L);
    this.scripts.clear();
  }

  /** Runs a loaded script; a Lua error becomes the error reply Redis would give. */
  run(sha: string, keys: readonly Bin[], args: readonly Bin[], run: ScriptCommandRunner): Reply {
    const script = this.scripts.get(sha.toLowerCase());
    if (!script) throw new Error(`script ${sha} is not loaded`);
    const { L } = this;
    const top = lua.lua_gettop(L);
    this.current = { run, startedAt: this.options.clock() };
    try {
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.handlerRef);
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, script.ref);
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.newEnvRef);
      pushStrings(L, keys);
      pushStrings(L, args);
      lua.lua_call(L, 2, 1);
      lua.lua_setupvalue(L, top + 2, 1);
      lua.lua_sethook(L, () => this.checkTime(), lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
      const status = lua.lua_pcall(L, 0, 1, top + 1);
      lua.lua_sethook(L, null, 0, 0);
      return status === lua.LUA_OK ? readReply(L, -1) : new ErrorReply(this.errorText(sha));
    } finally {
      this.current = undefined;
      lua.lua_settop(L, top);
    }
  }

  private open(): void {
    const L = lauxlib.luaL_newstate();
    this.L = L;
    lualib.luaL_openlibs(L);
    // A JavaScript exception inside a call (an emulator bug) fails the script, not the process.
    lua.lua_atnativeerror(L, (state) => {
      const error = lua.lua_touserdata(state, -1);
      pushFieldTable(
        state,
        "err",
        `ERR emulator error: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 1;
    });
    const prelude = luaBytes(PRELUDE);
    if (lauxlib.luaL_loadbuffer(L, prelude, prelude.length, luaBytes("=emulator_prelude")) !== lua.LUA_OK) {
      throw new Error(`emulator Lua prelude: ${toBin(L, -1)}`);
    }
    lua.lua_getglobal(L, "string");
    lua.lua_getfield(L, -1, "format");
    const formatRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    lua.lua_pop(L, 1);
    lua.lua_getglobal(L, "tonumber");
    const tonumberRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    const registered = (ref: number) => (state: LuaState) => {
      lua.lua_rawgeti(state, lua.LUA_REGISTRYINDEX, ref);
    };
    const api: Record<string, LuaJsFunction> = {
      call: (state) => this.callCommand(state, true),
      pcall: (state) => this.callCommand(state, false),
      sha1hex: sha1hexFunction,
      error_reply: errorReplyFunction,
      status_reply: statusReplyFunction,
      log: (state) => this.logFunction(state),
      setresp: setrespFunction,
      format: luaFormat(registered(formatRef)),
      tonumber: tonumberFunction(registered(tonumberRef)),
      floor: floorFunction,
      ceil: ceilFunction,
      random: randomFunction,
      cjson_encode: cjsonEncode,
      cjson_decode: cjsonDecode,
      global_index: globalIndexFunction,
      protected_rawset: protectedRawsetFunction,
      readonly_newindex: (state) => raise(state, "Attempt to modify a readonly table"),
    };
    lua.lua_createtable(L, 0, Object.keys(api).length + 1);
    for (const [name, fn] of Object.entries(api)) {
      lua.lua_pushjsfunction(L, fn);
      lua.lua_setfield(L, -2, name);
    }
    lua.lua_pushlightuserdata(L, CJSON_NULL);
    lua.lua_setfield(L, -2, "cjson_null");
    lua.lua_call(L, 1, 2);
    this.handlerRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    this.newEnvRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  /** luaCallFunction's error reply: the message, then where the script failed. */
  private errorText(sha: string): string {
    const { L } = this;
    if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
      return `ERR Error running script f_${sha}, ${(toBin(L, -1) ?? "execution failure").slice(0, 100)}`;
    }
    const field = (name: string) => {
      lua.lua_getfield(L, -1, name);
      const value = lua.lua_isstring(L, -1) ? toBin(L, -1) : undefined;
      lua.lua_pop(L, 1);
      return value;
    };
    const message = field("err") ?? "ERR unknown error";
    const source = field("source");
    const line = field("line");
    return source !== undefined && line !== undefined
      ? `${message} script: ${sha}, on ${source}:${line}.`
      : message;
  }

  private checkTime(): void {
    const run = this.current;
    if (!run || this.options.clock() - run.startedAt <= this.options.timeoutMs) return;
    const { L } = this;
    pushFieldTable(
      L,
      "err",
      `ERR Script ran longer than ${this.options.timeoutMs} ms and was stopped by the emulator`,
    );
    lua.lua_error(L);
  }

  /** redis.call (raise) and redis.pcall: luaRedisGenericCommand. */
  private callCommand(L: LuaState, raiseError: boolean): number {
    const fail = (message: string) => {
      pushFieldTable(L, "err", message);
      return raiseError ? lua.lua_error(L) : 1;
    };
    const run = this.current;
    if (!run) {
      pushFieldTable(L, "err", "ERR redis.call/pcall can only be called inside a script invocation");
      return lua.lua_error(L);
    }
    const argc = lua.lua_gettop(L);
    if (argc === 0) return fail("ERR Please specify at least one argument for this redis lib call");
    const argv: Bin[] = [];
    for (let i = 1; i <= argc; i++) {
      const argument = argumentOf(L, i);
      if (argument === undefined)
        return fail("ERR Lua redis lib command arguments must be strings or integers");
      argv.push(argument);
    }
    lua.lua_settop(L, 0);
    const reply = run.run(argv);
    if (reply instanceof ErrorReply) return fail(reply.message.replace(/[\r\n]+$/, ""));
    pushReply(L, reply);
    return 1;
  }

  private logFunction(L: LuaState): number {
    const argc = lua.lua_gettop(L);
    if (argc < 2) raiseTable(L, "ERR redis.log() requires two arguments or more.");
    if (lua.lua_type(L, 1) !== lua.LUA_TNUMBER)
      raiseTable(L, "ERR First argument must be a number (log level).");
    const level = lua.lua_tonumber(L, 1);
    if (level < 0 || level >= LOG_LEVELS) raiseTable(L, "ERR Invalid debug level.");
    const parts: string[] = [];
    for (let i = 2; i <= argc; i++) {
      const text = lua.lua_isstring(L, i) ? toBin(L, i) : undefined;
      if (text !== undefined) parts.push(Buffer.from(text, "latin1").toString("utf8"));
    }
    this.options.log(Math.trunc(level), parts.join(" "));
    return 0;
  }
}

/** `global_index(base)`: the globals' __index, raising for a name `base` lacks, as Redis's protected globals do. */
function globalIndexFunction(L: LuaState): number {
  lua.lua_pushjsclosure(
    L,
    (state) => {
      lua.lua_pushvalue(state, 2);
      if (lua.lua_rawget(state, lua.lua_upvalueindex(1)) !== lua.LUA_TNIL) return 1;
      const name = binOf(lauxlib.luaL_tolstring(state, 2));
      return raise(state, `Script attempted to access nonexistent global variable '${name}'`);
    },
    1,
  );
  return 1;
}

/**
 * rawset refusing the globals and the libraries (their metatables carry __protected), as
 * Redis's read-only tables refuse it, with no position in the message.
 */
function protectedRawsetFunction(L: LuaState): number {
  lauxlib.luaL_checktype(L, 1, lua.LUA_TTABLE);
  lauxlib.luaL_checkany(L, 2);
  lauxlib.luaL_checkany(L, 3);
  if (lua.lua_getmetatable(L, 1)) {
    lua.lua_getfield(L, -1, "__protected");
    const isProtected = lua.lua_toboolean(L, -1);
    lua.lua_pop(L, 2);
    if (isProtected) {
      lua.lua_pushstring(L, "Attempt to modify a readonly table");
      return lua.lua_error(L);
    }
  }
  lua.lua_settop(L, 3);
  lua.lua_rawset(L, 1);
  return 1;
}

function pushStrings(L: LuaState, values: readonly Bin[]): void {
  lua.lua_createtable(L, values.length, 0);
  values.forEach((value, i) => {
    pushBin(L, value);
    lua.lua_rawseti(L, -2, i + 1);
  });
}

function raiseTable(L: LuaState, message: string): never {
  pushFieldTable(L, "err", message);
  return lua.lua_error(L);
}

function sha1hexFunction(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) raiseTable(L, "ERR wrong number of arguments");
  const bytes = lua.lua_tolstring(L, 1);
  lua.lua_pushstring(L, sha1Hex(bytes ?? new Uint8Array()));
  return 1;
}

/** luaPushErrorBuff: "-CODE message" → "CODE message"; no code → "ERR message". */
function errorReplyText(text: Bin): string {
  const withDash = text.startsWith("-") ? text : `-${text}`;
  const space = withDash.indexOf(" ");
  const [code, message] =
    space < 0 ? ["ERR", withDash.slice(1)] : [withDash.slice(1, space), withDash.slice(space + 1)];
  return `${code} ${message.replace(/^[\r\n]+|[\r\n]+$/g, "")}`;
}

function errorReplyFunction(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    pushFieldTable(L, "err", "ERR wrong number or type of arguments");
    return 1;
  }
  pushFieldTable(L, "err", errorReplyText(toBin(L, 1) as Bin));
  return 1;
}

function statusReplyFunction(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    pushFieldTable(L, "err", "ERR wrong number or type of arguments");
    return 1;
  }
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushvalue(L, 1);
  lua.lua_setfield(L, -2, "ok");
  return 1;
}

function setrespFunction(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) raiseTable(L, "ERR redis.setresp() requires one argument.");
  const version = lua.lua_tonumber(L, 1);
  if (version !== 2 && version !== 3) raiseTable(L, "ERR RESP version must be 2 or 3.");
  // Accepted, but replies keep their RESP2 form (RESP3 conversions are not emulated).
  return 0;
}
