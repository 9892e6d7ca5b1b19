/**
 * Conversions between Redis replies and Lua values, as Redis 7.0 makes them for scripts
 * speaking RESP2 (its redisProtocolToLuaType and luaReplyToRedisReply).
 */
import { type Bin, toBin as binOfBytes, fromBin } from "../bytes";
import { formatG, INT64_MIN } from "../numbers";
import { ErrorReply, type Reply, StatusReply } from "../reply";
import { type LuaState, lua } from "./fengari";

/** Lua strings are byte arrays: a binary string's bytes, and back. */
export const luaBytes = fromBin;
export const binOf = binOfBytes;

/** The string at `index` as a binary string (numbers as Lua prints them), or undefined. */
export function toBin(L: LuaState, index: number): Bin | undefined {
  const bytes = lua.lua_tolstring(L, index);
  return bytes ? binOf(bytes) : undefined;
}

export function pushBin(L: LuaState, value: Bin): void {
  lua.lua_pushstring(L, luaBytes(value));
}

/** A table {field = text}: how scripts see status and error replies. */
export function pushFieldTable(L: LuaState, field: "ok" | "err", text: string): void {
  lua.lua_createtable(L, 0, 1);
  pushBin(L, text);
  lua.lua_setfield(L, -2, field);
}

/**
 * Redis → Lua: integer → number (a float: 5.1 has no other), bulk → string, nil → false,
 * array → table, status → {ok=…}, error → {err=…}.
 */
export function pushReply(L: LuaState, reply: Reply): void {
  lua.lua_checkstack(L, 3);
  if (reply === null) lua.lua_pushboolean(L, false);
  else if (typeof reply === "number") lua.lua_pushnumber(L, reply);
  else if (typeof reply === "string") pushBin(L, reply);
  else if (reply instanceof StatusReply) pushFieldTable(L, "ok", reply.text);
  else if (reply instanceof ErrorReply) pushFieldTable(L, "err", reply.message);
  else {
    lua.lua_createtable(L, reply.length, 0);
    reply.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

/** A string field of the table at `index` read without metamethods (lua_rawget), or undefined. */
function rawStringField(L: LuaState, index: number, field: string): Bin | undefined {
  lua.lua_pushstring(L, field);
  const type = lua.lua_rawget(L, index);
  const value = type === lua.LUA_TSTRING ? toBin(L, -1) : undefined;
  lua.lua_pop(L, 1);
  return value;
}

/** C's (long long) cast of a double, as Redis applies it to a returned number. */
function truncate(value: number): number {
  if (!Number.isFinite(value)) return Number(INT64_MIN);
  return Math.trunc(value) || 0;
}

const MAX_DEPTH = 200;

/**
 * Lua → Redis: number → integer (truncated), string → bulk, true → 1, false / nil → nil,
 * {err=…} → error, {ok=…} → status, {double=…} → its %.17g text, {map=…} / {set=…} as
 * RESP2 flattens them, other tables → array up to the first nil.
 */
export function readReply(L: LuaState, index: number, depth = 0): Reply {
  const at = lua.lua_absindex(L, index);
  const type = lua.lua_type(L, at);
  if (type === lua.LUA_TSTRING) return toBin(L, at) as Bin;
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, at) ? 1 : null;
  if (type === lua.LUA_TNUMBER) return truncate(lua.lua_tonumber(L, at));
  if (type !== lua.LUA_TTABLE) return null;
  if (depth > MAX_DEPTH || !lua.lua_checkstack(L, 4)) return new ErrorReply("reached lua stack limit");
  const error = rawStringField(L, at, "err");
  if (error !== undefined) return new ErrorReply(error);
  const status = rawStringField(L, at, "ok");
  if (status !== undefined) return new StatusReply(status.replace(/[\r\n]/g, " "));
  lua.lua_pushstring(L, "double");
  if (lua.lua_rawget(L, at) === lua.LUA_TNUMBER) {
    const text = formatG(lua.lua_tonumber(L, -1), 17);
    lua.lua_pop(L, 1);
    return text;
  }
  lua.lua_pop(L, 1);
  // RESP2 sends a map as its keys and values in turn, a set as its members.
  for (const kind of ["map", "set"] as const) {
    lua.lua_pushstring(L, kind);
    if (lua.lua_rawget(L, at) === lua.LUA_TTABLE) {
      const items: Reply[] = [];
      lua.lua_pushnil(L);
      while (lua.lua_next(L, -2)) {
        items.push(readReply(L, -2, depth + 1));
        if (kind === "map") items.push(readReply(L, -1, depth + 1));
        lua.lua_pop(L, 1);
      }
      lua.lua_pop(L, 1);
      return items;
    }
    lua.lua_pop(L, 1);
  }
  const items: Reply[] = [];
  for (let i = 1; ; i++) {
    if (lua.lua_rawgeti(L, at, i) === lua.LUA_TNIL) {
      lua.lua_pop(L, 1);
      break;
    }
    items.push(readReply(L, -1, depth + 1));
    lua.lua_pop(L, 1);
  }
  return items;
}

/** A command argument from Lua: strings as they are, numbers as Redis prints them (%.17g). */
export function argumentOf(L: LuaState, index: number): Bin | undefined {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TNUMBER) {
    return lua.lua_isinteger(L, index)
      ? String(lua.lua_tointeger(L, index))
      : formatG(lua.lua_tonumber(L, index), 17);
  }
  return type === lua.LUA_TSTRING ? toBin(L, index) : undefined;
}
