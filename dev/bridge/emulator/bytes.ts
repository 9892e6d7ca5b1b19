/**
 * Redis strings are bytes. The emulator holds them as "binary strings": JS strings with
 * one char per byte (latin1), so any bytes (NUL, CR LF, invalid UTF-8) round-trip, Maps
 * and Sets key on them directly, and `<` compares them as memcmp does.
 */
export type Bin = string;

export function toBin(bytes: Uint8Array): Bin {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

export function fromBin(value: Bin): Buffer {
  return Buffer.from(value, "latin1");
}

/** A binary string read as UTF-8, for error texts that quote user input. */
export function binText(value: Bin): string {
  return Buffer.from(value, "latin1").toString("utf8");
}

const lower = (code: number) => (code >= 65 && code <= 90 ? code + 32 : code);

/** Redis's glob matching (stringmatchlen): `*`, `?`, `[...]` with `^` and ranges, `\` escapes. */
export function globMatch(pattern: Bin, subject: Bin, nocase = false): boolean {
  const state = { skipLongerMatches: false };
  return matchFrom(pattern, 0, subject, 0, nocase, state);
}

function matchFrom(
  pattern: Bin,
  p: number,
  subject: Bin,
  s: number,
  nocase: boolean,
  state: { skipLongerMatches: boolean },
): boolean {
  const plen = pattern.length;
  const slen = subject.length;
  const same = (a: number, b: number) => (nocase ? lower(a) === lower(b) : a === b);
  while (p < plen && s < slen) {
    const c = pattern.charCodeAt(p);
    if (c === 42 /* * */) {
      while (p + 1 < plen && pattern.charCodeAt(p + 1) === 42) p++;
      if (p + 1 === plen) return true;
      while (s < slen) {
        if (matchFrom(pattern, p + 1, subject, s, nocase, state)) return true;
        if (state.skipLongerMatches) return false;
        s++;
      }
      state.skipLongerMatches = true;
      return false;
    }
    if (c === 63 /* ? */) {
      s++;
    } else if (c === 91 /* [ */) {
      p++;
      const negate = pattern.charCodeAt(p) === 94; /* ^ */
      if (negate) p++;
      let match = false;
      const target = subject.charCodeAt(s);
      for (;;) {
        const pc = pattern.charCodeAt(p);
        if (pc === 92 /* \ */ && plen - p >= 2) {
          p++;
          if (pattern.charCodeAt(p) === target) match = true;
        } else if (pc === 93 /* ] */) {
          break;
        } else if (p >= plen) {
          p--;
          break;
        } else if (plen - p >= 3 && pattern.charCodeAt(p + 1) === 45 /* - */) {
          let start = pc;
          let end = pattern.charCodeAt(p + 2);
          if (start > end) [start, end] = [end, start];
          const code = nocase ? lower(target) : target;
          if (nocase) {
            start = lower(start);
            end = lower(end);
          }
          p += 2;
          if (code >= start && code <= end) match = true;
        } else if (same(pc, target)) {
          match = true;
        }
        p++;
      }
      if (negate) match = !match;
      if (!match) return false;
      s++;
    } else {
      if (c === 92 /* \ */ && plen - p >= 2) p++;
      if (!same(pattern.charCodeAt(p), subject.charCodeAt(s))) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pattern.charCodeAt(p) === 42) p++;
      break;
    }
  }
  return p === plen && s === slen;
}
