/**
 * string.format as Lua 5.1 does it, on C's printf: the integer conversions (%d %i %o %u %x
 * %X %c) take any number and truncate it, as 5.1 casts the double (`string.format('%d', 2.5)`
 * is "2"; 5.3 refuses non-integral values, and fengari's integers stop at 2^31), and the
 * float conversions (%e %f %g) print as C does (fengari's %e writes "1.2e+4"). The others
 * (%s %q %a) are handed to fengari's own string.format, one at a time.
 */
import { formatG } from "../numbers";
import { raise } from "./cjson";
import { type LuaState, lauxlib, lua } from "./fengari";
import { binOf, luaBytes } from "./values";

const SPEC = /%([-+ #0]*)([0-9]*)(?:\.([0-9]*))?([a-zA-Z%])/y;

/** Sign and padding, as printf applies its flags and width around the digits. */
function pad(flags: string, width: number, sign: string, digits: string, zeroPadAllowed: boolean): string {
  const length = sign.length + digits.length;
  if (length >= width) return sign + digits;
  if (flags.includes("-")) return (sign + digits).padEnd(width, " ");
  if (flags.includes("0") && zeroPadAllowed) return sign + digits.padStart(width - sign.length, "0");
  return (sign + digits).padStart(width, " ");
}

function formatFloat(
  flags: string,
  width: number,
  precision: number | undefined,
  conversion: string,
  value: number,
): string {
  const upper = conversion === conversion.toUpperCase();
  const negative = value < 0 || Object.is(value, -0) || Number.isNaN(value);
  const sign = negative ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
  const magnitude = Math.abs(value);
  let digits: string;
  if (!Number.isFinite(magnitude)) digits = Number.isNaN(magnitude) ? "nan" : "inf";
  else if (conversion === "f" || conversion === "F") {
    digits = magnitude >= 1e21 ? fixedOfLarge(magnitude, precision ?? 6) : magnitude.toFixed(precision ?? 6);
  } else if (conversion === "e" || conversion === "E") {
    digits = magnitude
      .toExponential(precision ?? 6)
      .replace(/e([+-])(\d)$/, (_, sign, digit) => `e${sign}0${digit}`);
  } else {
    digits = formatG(magnitude, precision ?? 6);
  }
  if (upper) digits = digits.toUpperCase();
  return pad(flags, width, sign, digits, Number.isFinite(magnitude));
}

/** toFixed gives up on exponential notation from 1e21; C prints every digit of the double. */
function fixedOfLarge(value: number, precision: number): string {
  const whole = BigInt(value).toString();
  return precision > 0 ? `${whole}.${"0".repeat(precision)}` : whole;
}

function formatInteger(
  flags: string,
  width: number,
  precision: number | undefined,
  conversion: string,
  value: number,
): string {
  let n = BigInt(Math.trunc(value));
  let sign = "";
  let digits: string;
  if (conversion === "d" || conversion === "i") {
    if (n < 0n) {
      sign = "-";
      n = -n;
    } else if (flags.includes("+")) sign = "+";
    else if (flags.includes(" ")) sign = " ";
    digits = n.toString();
  } else {
    // The unsigned conversions see a negative value's two's complement, as C does.
    const unsigned = BigInt.asUintN(64, n);
    digits = unsigned.toString(conversion === "o" ? 8 : conversion === "u" ? 10 : 16);
    if (conversion === "X") digits = digits.toUpperCase();
  }
  if (precision !== undefined) digits = precision === 0 && n === 0n ? "" : digits.padStart(precision, "0");
  let prefix = sign;
  if (flags.includes("#") && n !== 0n) {
    if (conversion === "x") prefix += "0x";
    else if (conversion === "X") prefix += "0X";
    else if (conversion === "o" && !digits.startsWith("0")) prefix += "0";
  }
  return pad(flags, width, prefix, digits, precision === undefined);
}

/** string.format around fengari's own, which `original` pushes. */
export function luaFormat(original: (L: LuaState) => void) {
  return (L: LuaState): number => {
    const format = binOf(lauxlib.luaL_checklstring(L, 1));
    let out = "";
    let argument = 1;
    let i = 0;
    while (i < format.length) {
      const percent = format.indexOf("%", i);
      if (percent < 0) {
        out += format.slice(i);
        break;
      }
      out += format.slice(i, percent);
      SPEC.lastIndex = percent;
      const spec = SPEC.exec(format);
      if (!spec) raise(L, `invalid option '${format.slice(percent, percent + 2)}' to 'format'`);
      const [text, flags = "", widthText = "", precisionText, conversion = ""] = spec;
      i = percent + text.length;
      if (conversion === "%") {
        out += "%";
        continue;
      }
      argument++;
      const precision = precisionText === undefined ? undefined : Number(precisionText || "0");
      const width = Number(widthText || "0");
      if ("diouxXc".includes(conversion)) {
        const value = lauxlib.luaL_checknumber(L, argument);
        if (conversion === "c") out += String.fromCharCode(Math.trunc(value) & 0xff);
        else out += formatInteger(flags, width, precision, conversion, value);
        continue;
      }
      if ("eEfFgG".includes(conversion)) {
        out += formatFloat(flags, width, precision, conversion, lauxlib.luaL_checknumber(L, argument));
        continue;
      }
      if (argument > lua.lua_gettop(L)) raise(L, `bad argument #${argument} to 'format' (no value)`);
      original(L);
      lua.lua_pushstring(L, luaBytes(text));
      lua.lua_pushvalue(L, argument);
      lua.lua_call(L, 2, 1);
      out += binOf(lua.lua_tolstring(L, -1) as Uint8Array);
      lua.lua_pop(L, 1);
    }
    lua.lua_pushstring(L, luaBytes(out));
    return 1;
  };
}
