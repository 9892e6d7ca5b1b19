/**
 * tonumber, math.floor, math.ceil and math.random as Lua 5.1 has them: numbers come back
 * as doubles (fengari would give 32-bit integers, whose arithmetic wraps). They are
 * JavaScript functions, so an error names the script's line, as C functions do in Redis.
 */
import { raise } from "./cjson";
import { type LuaJsFunction, type LuaState, lauxlib, lua } from "./fengari";

function pushFloat(L: LuaState, value: number): number {
  lua.lua_pushnumber(L, value);
  return 1;
}

export function tonumberFunction(original: (L: LuaState) => void): LuaJsFunction {
  return (L) => {
    if (lua.lua_type(L, 2) <= lua.LUA_TNIL) {
      lauxlib.luaL_checkany(L, 1);
      const type = lua.lua_type(L, 1);
      if (type === lua.LUA_TNUMBER) return pushFloat(L, lua.lua_tonumber(L, 1));
      const text = type === lua.LUA_TSTRING ? lua.lua_tolstring(L, 1) : null;
      if (text && lua.lua_stringtonumber(L, text) !== 0) return pushFloat(L, lua.lua_tonumber(L, -1));
      lua.lua_pushnil(L);
      return 1;
    }
    // With a base: fengari's own conversion, its result made a double.
    const top = lua.lua_gettop(L);
    original(L);
    lua.lua_insert(L, 1);
    lua.lua_call(L, top, 1);
    return lua.lua_type(L, -1) === lua.LUA_TNUMBER ? pushFloat(L, lua.lua_tonumber(L, -1)) : 1;
  };
}

export const floorFunction: LuaJsFunction = (L) => pushFloat(L, Math.floor(lauxlib.luaL_checknumber(L, 1)));

export const ceilFunction: LuaJsFunction = (L) => pushFloat(L, Math.ceil(lauxlib.luaL_checknumber(L, 1)));

/** 5.1's math.random: [0, 1), [1, m] or [m, n], bounds truncated as C casts them. */
export const randomFunction: LuaJsFunction = (L) => {
  const count = lua.lua_gettop(L);
  const r = Math.random();
  if (count === 0) return pushFloat(L, r);
  if (count > 2) return raise(L, "wrong number of arguments");
  const low = count === 1 ? 1 : Math.trunc(lauxlib.luaL_checknumber(L, 1));
  const high = Math.trunc(lauxlib.luaL_checknumber(L, count));
  if (low > high) return raise(L, `bad argument #${count} to 'random' (interval is empty)`);
  return pushFloat(L, Math.floor(r * (high - low + 1)) + low);
};
