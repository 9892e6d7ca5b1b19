/**
 * Redis runs Lua 5.1, whose only number type is the double; fengari is Lua 5.3 with 32-bit
 * integers, whose arithmetic wraps (60000 * 50000 is negative there). Rewriting every
 * integer literal of a script as a float literal (`1` → `1.0`) makes the script's
 * arithmetic double arithmetic, as in Redis; the other integer sources (tonumber, math.floor,
 * command replies) are floats through the prelude and the reply conversion. Line numbers
 * are unchanged, so error positions stay those of the original text.
 */

const isDigit = (c: string) => c >= "0" && c <= "9";
const isIdentifierStart = (c: string) => /[A-Za-z_]/.test(c);
const isIdentifierPart = (c: string) => /[A-Za-z0-9_]/.test(c);

/** The level of a long bracket opening at `i` (`[[` is 0, `[==[` is 2), or -1. */
function longBracketLevel(source: string, i: number): number {
  if (source[i] !== "[") return -1;
  let j = i + 1;
  while (source[j] === "=") j++;
  return source[j] === "[" ? j - i - 1 : -1;
}

function skipLongBracket(source: string, i: number, level: number): number {
  const close = `]${"=".repeat(level)}]`;
  const end = source.indexOf(close, i + level + 2);
  return end < 0 ? source.length : end + close.length;
}

function skipQuoted(source: string, i: number): number {
  const quote = source[i];
  let j = i + 1;
  while (j < source.length && source[j] !== quote && source[j] !== "\n") {
    j += source[j] === "\\" ? 2 : 1;
  }
  return Math.min(j + 1, source.length);
}

/** Lua's read_numeral: digits, dots, exponent signs and any letters that follow. */
function numeralEnd(source: string, i: number): number {
  const hex = source[i] === "0" && (source[i + 1] === "x" || source[i + 1] === "X");
  const exponent = hex ? "pP" : "eE";
  let j = hex ? i + 2 : i;
  while (j < source.length) {
    const c = source[j] as string;
    if (exponent.includes(c) && (source[j + 1] === "+" || source[j + 1] === "-")) j += 2;
    else if (isIdentifierPart(c) || c === ".") j++;
    else break;
  }
  return j;
}

export function floatLiterals(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    let end = i + 1;
    if (c === "-" && source[i + 1] === "-") {
      const level = longBracketLevel(source, i + 2);
      if (level >= 0) end = skipLongBracket(source, i + 2, level);
      else {
        const newline = source.indexOf("\n", i);
        end = newline < 0 ? source.length : newline;
      }
    } else if (c === "'" || c === '"') {
      end = skipQuoted(source, i);
    } else if (c === "[" && longBracketLevel(source, i) >= 0) {
      end = skipLongBracket(source, i, longBracketLevel(source, i));
    } else if (isIdentifierStart(c)) {
      while (end < source.length && isIdentifierPart(source[end] as string)) end++;
    } else if (isDigit(c) || (c === "." && isDigit(source[i + 1] ?? ""))) {
      end = numeralEnd(source, i);
      const numeral = source.slice(i, end);
      if (/^[0-9]+$/.test(numeral) || /^0[xX][0-9a-fA-F]+$/.test(numeral)) {
        out += `${numeral}.0`;
        i = end;
        continue;
      }
    }
    out += source.slice(i, end);
    i = end;
  }
  return out;
}
