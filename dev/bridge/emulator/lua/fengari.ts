/**
 * fengari (Lua 5.3 in JavaScript), loaded so that numbers print as in the Lua 5.1 Redis
 * embeds, which has only doubles and prints them with %.14g: no ".0" on integral floats
 * (fengari's LUA_COMPAT_FLOATSTRING, read from FENGARICONF when luaconf.js first loads, so
 * it is set only around that require) and C's %.14g instead of fengari's JavaScript
 * rendering (2^53 is "9.007199254741e+15", not "9007199254741000"). The printer is
 * replaced on luaconf.js's exports before lobject.js, which takes it from there, loads;
 * the libraries' integer arguments are cast as 5.1 casts them, the same way.
 */
import { createRequire } from "node:module";
import { formatG } from "../numbers";

/** A Lua state; opaque here. */
export interface LuaState {
  readonly __luaState: unique symbol;
}

export type LuaJsFunction = (L: LuaState) => number;

export interface LuaDebug {
  currentline: number;
}

export interface LuaApi {
  readonly LUA_OK: number;
  readonly LUA_MULTRET: number;
  readonly LUA_REGISTRYINDEX: number;
  readonly LUA_RIDX_GLOBALS: number;
  readonly LUA_MASKCOUNT: number;
  readonly LUA_TNONE: number;
  readonly LUA_TNIL: number;
  readonly LUA_TBOOLEAN: number;
  readonly LUA_TLIGHTUSERDATA: number;
  readonly LUA_TNUMBER: number;
  readonly LUA_TSTRING: number;
  readonly LUA_TTABLE: number;
  readonly LUA_TFUNCTION: number;
  lua_close(L: LuaState): void;
  lua_atnativeerror(L: LuaState, handler: LuaJsFunction): void;
  lua_getglobal(L: LuaState, name: string): number;
  lua_gettop(L: LuaState): number;
  lua_settop(L: LuaState, index: number): void;
  lua_pop(L: LuaState, count: number): void;
  lua_pushvalue(L: LuaState, index: number): void;
  lua_insert(L: LuaState, index: number): void;
  lua_absindex(L: LuaState, index: number): number;
  lua_checkstack(L: LuaState, extra: number): boolean;
  lua_type(L: LuaState, index: number): number;
  lua_isinteger(L: LuaState, index: number): boolean;
  lua_isstring(L: LuaState, index: number): boolean;
  lua_toboolean(L: LuaState, index: number): boolean;
  lua_tonumber(L: LuaState, index: number): number;
  lua_tointeger(L: LuaState, index: number): number;
  lua_tolstring(L: LuaState, index: number): Uint8Array | null;
  lua_touserdata(L: LuaState, index: number): unknown;
  lua_rawlen(L: LuaState, index: number): number;
  lua_pushnil(L: LuaState): void;
  lua_pushnumber(L: LuaState, value: number): void;
  lua_pushinteger(L: LuaState, value: number): void;
  lua_pushboolean(L: LuaState, value: boolean): void;
  lua_pushstring(L: LuaState, value: Uint8Array | string): void;
  lua_pushjsfunction(L: LuaState, fn: LuaJsFunction): void;
  lua_pushjsclosure(L: LuaState, fn: LuaJsFunction, upvalues: number): void;
  lua_upvalueindex(n: number): number;
  lua_pushlightuserdata(L: LuaState, value: unknown): void;
  lua_createtable(L: LuaState, arraySize: number, hashSize: number): void;
  lua_newtable(L: LuaState): void;
  lua_setfield(L: LuaState, index: number, key: string): void;
  lua_getfield(L: LuaState, index: number, key: string): number;
  lua_rawget(L: LuaState, index: number): number;
  lua_rawgeti(L: LuaState, index: number, n: number): number;
  lua_rawseti(L: LuaState, index: number, n: number): void;
  lua_rawset(L: LuaState, index: number): void;
  lua_next(L: LuaState, index: number): boolean;
  lua_setmetatable(L: LuaState, index: number): void;
  lua_getmetatable(L: LuaState, index: number): boolean;
  lua_setupvalue(L: LuaState, fnIndex: number, n: number): Uint8Array | null;
  lua_pcall(L: LuaState, args: number, results: number, handler: number): number;
  lua_call(L: LuaState, args: number, results: number): void;
  lua_error(L: LuaState): never;
  lua_concat(L: LuaState, count: number): void;
  lua_stringtonumber(L: LuaState, text: Uint8Array): number;
  lua_sethook(
    L: LuaState,
    hook: ((L: LuaState, ar: LuaDebug) => void) | null,
    mask: number,
    count: number,
  ): void;
}

export interface LauxApi {
  luaL_newstate(): LuaState;
  luaL_loadbuffer(L: LuaState, source: Uint8Array, size: number, name: Uint8Array): number;
  luaL_where(L: LuaState, level: number): void;
  luaL_ref(L: LuaState, table: number): number;
  luaL_unref(L: LuaState, table: number, ref: number): void;
  luaL_checknumber(L: LuaState, arg: number): number;
  luaL_checktype(L: LuaState, arg: number, type: number): void;
  luaL_checkany(L: LuaState, arg: number): void;
  luaL_checklstring(L: LuaState, arg: number): Uint8Array;
  luaL_tolstring(L: LuaState, index: number): Uint8Array;
}

export interface LualibApi {
  luaL_openlibs(L: LuaState): void;
}

interface Fengari {
  readonly lua: LuaApi;
  readonly lauxlib: LauxApi;
  readonly lualib: LualibApi;
}

/** lua_tonumberx: the number at `index`, numeric strings converted, or false. */
type ToNumber = (L: LuaState, index: number) => number | false;

interface Lauxlib {
  luaL_checkinteger: (L: LuaState, arg: number) => number;
  luaL_optinteger: (L: LuaState, arg: number, fallback: number) => number;
}

/**
 * Lua 5.1's luaL_checkint casts the double to int: string.sub(s, 2.5) reads 2. 5.3 refuses a
 * number without an integer representation, so the libraries' integer arguments get the
 * cast instead (within fengari's 32-bit integers).
 */
function castingIntegerArguments(
  lauxlib: Lauxlib,
  toNumber: ToNumber,
  isNoneOrNil: (L: LuaState, i: number) => boolean,
): void {
  const strict = lauxlib.luaL_checkinteger;
  const cast = (L: LuaState, arg: number): number => {
    const value = toNumber(L, arg);
    if (value === false) return strict(L, arg);
    if (Number.isNaN(value)) return 0;
    return Math.max(-2147483648, Math.min(2147483647, Math.trunc(value)));
  };
  lauxlib.luaL_checkinteger = cast;
  lauxlib.luaL_optinteger = (L, arg, fallback) => (isNoneOrNil(L, arg) ? fallback : cast(L, arg));
}

function loadFengari(): Fengari {
  const require = createRequire(import.meta.url);
  const previous = process.env.FENGARICONF;
  process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
  try {
    // defs.js first: it loads luaconf.js (their cycle resolves only in that order), not lobject.js.
    require("fengari/src/defs.js");
    const luaconf = require("fengari/src/luaconf.js") as { lua_number2str: (n: number) => string };
    luaconf.lua_number2str = (n) => formatG(n, 14);
    // The libraries take these from lauxlib.js's exports when they load, after this.
    const api = require("fengari/src/lapi.js") as {
      lua_tonumberx: ToNumber;
      lua_isnoneornil: (L: LuaState, i: number) => boolean;
    };
    castingIntegerArguments(
      require("fengari/src/lauxlib.js") as Lauxlib,
      api.lua_tonumberx,
      api.lua_isnoneornil,
    );
    return require("fengari") as Fengari;
  } finally {
    if (previous === undefined) delete process.env.FENGARICONF;
    else process.env.FENGARICONF = previous;
  }
}

export const { lua, lauxlib, lualib } = loadFengari();
