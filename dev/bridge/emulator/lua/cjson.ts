/**
 * cjson.encode / cjson.decode as Redis's bundled lua-cjson behaves with its defaults:
 * numbers with %.14g, `/` escaped, empty tables as `{}`, sparse arrays refused past
 * index 10 when more than half empty, nesting limited to 1000, `null` as cjson.null.
 */
import { formatG } from "../numbers";
import { type LuaState, lauxlib, lua } from "./fengari";
import { binOf, luaBytes } from "./values";

/** cjson.null: lua-cjson pushes a NULL light userdata. */
export const CJSON_NULL = Object.freeze({ cjson: "null" });

const MAX_DEPTH = 1000;
const SPARSE_RATIO = 2;
const SPARSE_SAFE = 10;

/** Raises a Lua error at the caller's position, as luaL_error does. */
export function raise(L: LuaState, message: string): never {
  lauxlib.luaL_where(L, 1);
  lua.lua_pushstring(L, luaBytes(message));
  lua.lua_concat(L, 2);
  return lua.lua_error(L);
}

function escapeString(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes.charCodeAt(i);
    const c = bytes[i] as string;
    if (c === '"') out += '\\"';
    else if (c === "\\") out += "\\\\";
    else if (c === "/") out += "\\/";
    else if (c === "\b") out += "\\b";
    else if (c === "\f") out += "\\f";
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return `${out}"`;
}

function encodeNumber(L: LuaState, value: number): string {
  if (!Number.isFinite(value)) raise(L, "Cannot serialise number: must not be NaN or Inf");
  return formatG(value, 14);
}

/** lua_array_length: the array size, or -1 when some key is not a positive integer. */
function arrayLength(L: LuaState, index: number): number {
  let max = 0;
  let items = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, index)) {
    const key = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : Number.NaN;
    lua.lua_pop(L, 1);
    if (!Number.isInteger(key) || key < 1) {
      lua.lua_pop(L, 1);
      return -1;
    }
    max = Math.max(max, key);
    items++;
  }
  if (max > items * SPARSE_RATIO && max > SPARSE_SAFE)
    raise(L, "Cannot serialise table: excessively sparse array");
  return max;
}

function encodeValue(L: LuaState, index: number, depth: number): string {
  const at = lua.lua_absindex(L, index);
  const type = lua.lua_type(L, at);
  if (type === lua.LUA_TSTRING) return escapeString(binOf(lua.lua_tolstring(L, at) as Uint8Array));
  if (type === lua.LUA_TNUMBER) return encodeNumber(L, lua.lua_tonumber(L, at));
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, at) ? "true" : "false";
  if (type === lua.LUA_TNIL) return "null";
  if (type === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, at) === CJSON_NULL) return "null";
  if (type !== lua.LUA_TTABLE) {
    const name = [
      "nil",
      "boolean",
      "userdata",
      "number",
      "string",
      "table",
      "function",
      "userdata",
      "thread",
    ][type];
    return raise(L, `Cannot serialise ${name ?? "value"}: type not supported`);
  }
  if (depth > MAX_DEPTH) raise(L, `Cannot serialise, excessive nesting (${depth})`);
  lua.lua_checkstack(L, 4);
  const length = arrayLength(L, at);
  if (length > 0) {
    const items: string[] = [];
    for (let i = 1; i <= length; i++) {
      lua.lua_rawgeti(L, at, i);
      items.push(encodeValue(L, -1, depth + 1));
      lua.lua_pop(L, 1);
    }
    return `[${items.join(",")}]`;
  }
  const members: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, at)) {
    const keyType = lua.lua_type(L, -2);
    let key: string;
    if (keyType === lua.LUA_TSTRING) key = escapeString(binOf(lua.lua_tolstring(L, -2) as Uint8Array));
    else if (keyType === lua.LUA_TNUMBER) key = `"${encodeNumber(L, lua.lua_tonumber(L, -2))}"`;
    else raise(L, "Cannot serialise table: table key must be a number or string");
    members.push(`${key}:${encodeValue(L, -1, depth + 1)}`);
    lua.lua_pop(L, 1);
  }
  return `{${members.join(",")}}`;
}

export function cjsonEncode(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) raise(L, "bad argument #1 to 'encode' (expected 1 argument)");
  lua.lua_pushstring(L, luaBytes(encodeValue(L, 1, 1)));
  return 1;
}

class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
}

/** A JSON reader over bytes (a binary string), pushing what it reads onto the Lua stack. */
class JsonDecoder {
  private at = 0;

  constructor(
    private readonly L: LuaState,
    private readonly text: string,
  ) {}

  decodeDocument(): void {
    this.value(1);
    this.skipSpace();
    if (this.at < this.text.length) this.fail("the end of input");
  }

  private fail(expected: string): never {
    throw new JsonSyntaxError(`Expected ${expected} but found invalid token at character ${this.at + 1}`);
  }

  private skipSpace(): void {
    while (this.at < this.text.length && " \t\n\r".includes(this.text[this.at] as string)) this.at++;
  }

  private value(depth: number): void {
    const { L } = this;
    this.skipSpace();
    const c = this.text[this.at];
    if (c === "{" || c === "[") {
      if (depth > MAX_DEPTH) {
        throw new JsonSyntaxError(
          `Found too many nested data structures (${depth}) at character ${this.at + 1}`,
        );
      }
      lua.lua_checkstack(L, 3);
      if (c === "{") this.object(depth);
      else this.array(depth);
    } else if (c === '"') pushString(L, this.string());
    else if (this.text.startsWith("true", this.at)) this.literal(4, () => lua.lua_pushboolean(L, true));
    else if (this.text.startsWith("false", this.at)) this.literal(5, () => lua.lua_pushboolean(L, false));
    else if (this.text.startsWith("null", this.at))
      this.literal(4, () => lua.lua_pushlightuserdata(L, CJSON_NULL));
    else {
      const number = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(
        this.text.slice(this.at, this.at + 400),
      );
      if (!number) this.fail("value");
      this.at += number[0].length;
      lua.lua_pushnumber(L, Number(number[0]));
    }
  }

  private literal(length: number, push: () => void): void {
    this.at += length;
    push();
  }

  private object(depth: number): void {
    const { L } = this;
    this.at++;
    lua.lua_newtable(L);
    this.skipSpace();
    if (this.text[this.at] === "}") {
      this.at++;
      return;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"') this.fail("object key string");
      pushString(L, this.string());
      this.skipSpace();
      if (this.text[this.at] !== ":") this.fail("colon");
      this.at++;
      this.value(depth + 1);
      lua.lua_rawset(L, -3);
      this.skipSpace();
      const next = this.text[this.at++];
      if (next === "}") return;
      if (next !== ",") {
        this.at--;
        this.fail("comma or object end");
      }
    }
  }

  private array(depth: number): void {
    const { L } = this;
    this.at++;
    lua.lua_newtable(L);
    this.skipSpace();
    if (this.text[this.at] === "]") {
      this.at++;
      return;
    }
    for (let i = 1; ; i++) {
      this.value(depth + 1);
      lua.lua_rawseti(L, -2, i);
      this.skipSpace();
      const next = this.text[this.at++];
      if (next === "]") return;
      if (next !== ",") {
        this.at--;
        this.fail("comma or array end");
      }
    }
  }

  /** A JSON string's bytes: raw bytes as they are, \u escapes as UTF-8. */
  private string(): string {
    const start = ++this.at;
    let out = "";
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined) {
        this.at = start - 1;
        this.fail("string end");
      }
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) this.fail("string character");
      if (c !== "\\") {
        out += c;
        this.at++;
        continue;
      }
      const escaped = this.text[this.at + 1];
      const simple: Record<string, string> = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        b: "\b",
        f: "\f",
        n: "\n",
        r: "\r",
        t: "\t",
      };
      if (escaped !== undefined && escaped in simple) {
        out += simple[escaped];
        this.at += 2;
      } else if (escaped === "u") {
        let code = this.hex4(this.at + 2);
        this.at += 6;
        if (code >= 0xd800 && code <= 0xdbff && this.text.startsWith("\\u", this.at)) {
          const low = this.hex4(this.at + 2);
          if (low >= 0xdc00 && low <= 0xdfff) {
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            this.at += 6;
          }
        }
        out += Buffer.from(String.fromCodePoint(code), "utf8").toString("latin1");
      } else this.fail("escape sequence");
    }
    this.at++;
    return out;
  }

  private hex4(at: number): number {
    const digits = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail("unicode escape");
    return Number.parseInt(digits, 16);
  }
}

function pushString(L: LuaState, bytes: string): void {
  lua.lua_pushstring(L, luaBytes(bytes));
}

export function cjsonDecode(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) raise(L, "bad argument #1 to 'decode' (expected 1 argument)");
  const text = binOf(lauxlib.luaL_checklstring(L, 1));
  const top = lua.lua_gettop(L);
  let failure: string | undefined;
  try {
    new JsonDecoder(L, text).decodeDocument();
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    failure = error.message;
  }
  if (failure !== undefined) {
    lua.lua_settop(L, top);
    raise(L, failure);
  }
  return 1;
}
