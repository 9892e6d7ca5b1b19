/** Number parsing and printing exactly as Redis does it (its string2ll / string2d, C's printf %g). */
import type { Bin } from "./bytes";

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Redis's string2ll: canonical decimal only (no spaces, no '+', no leading zeros), within int64. */
export function parseInt64(text: Bin): bigint | undefined {
  if (text.length === 0 || text.length >= 21) return undefined;
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

/**
 * Redis's string2d (strtod): decimal or inf, the whole text, no leading space; NaN and
 * overflowing or underflowing values are refused.
 */
export function parseDouble(text: Bin): number | undefined {
  const infinity = INFINITY.exec(text);
  if (infinity) return infinity[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) return undefined;
  // strtod sets ERANGE on underflow: a non-zero mantissa that rounds to 0.
  if (value === 0 && /[1-9]/.test(text.replace(/[eE].*$/, ""))) return undefined;
  return value;
}

/**
 * C's printf("%.<precision>g", value). A NaN prints as glibc prints the NaN x86 arithmetic
 * produces (sign bit set): "-nan".
 */
export function formatG(value: number, precision: number): string {
  if (Number.isNaN(value)) return "-nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const p = precision === 0 ? 1 : precision;
  const exponential = value.toExponential(p - 1);
  const exponent = Number(exponential.slice(exponential.indexOf("e") + 1));
  if (exponent < -4 || exponent >= p) {
    const [mantissa = "", power = ""] = exponential.split("e");
    const digits = stripZeros(mantissa);
    const sign = power.startsWith("-") ? "-" : "+";
    const magnitude = power.replace(/^[+-]/, "").padStart(2, "0");
    return `${digits}e${sign}${magnitude}`;
  }
  return stripZeros(value.toFixed(p - 1 - exponent));
}

function stripZeros(text: string): string {
  return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
}

/** Redis's addReplyDouble (RESP2): "%.17g", infinities as inf / -inf. */
export function formatScore(value: number): string {
  return formatG(value, 17);
}

/**
 * INCRBYFLOAT / HINCRBYFLOAT print a long double with %.17Lf and trailing zeros removed;
 * with only doubles here, the shortest round-trip text is what that gives for the
 * values people add (10.5 + 0.1 is "10.6").
 */
export function formatHumanDouble(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Object.is(value, -0) || value === 0) return "0";
  const text = String(value);
  if (!/e/.test(text)) return text;
  if (Math.abs(value) >= 1e21) return BigInt(value).toString();
  return stripZeros(value.toFixed(17));
}
