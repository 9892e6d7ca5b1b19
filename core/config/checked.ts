/**
 * A value read from configuration, or every problem found while reading it. Readers
 * return this instead of throwing so that a runtime can gather the problems of all its
 * settings and report them together (core/config/config-error.ts).
 */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The value inside a Checked. */
export type CheckedValue<C> = C extends { readonly ok: true; readonly value: infer T } ? T : never;

export function valid<T>(value: T): Checked<T> {
  return { ok: true, value };
}

export function invalid(problems: readonly string[]): Checked<never> {
  return { ok: false, problems };
}

export function problemsOf(checked: Checked<unknown>): readonly string[] {
  return checked.ok ? [] : checked.problems;
}

export function mapChecked<T, U>(checked: Checked<T>, map: (value: T) => U): Checked<U> {
  return checked.ok ? valid(map(checked.value)) : checked;
}

/**
 * A check across settings (e.g. one timeout below another), run once the settings it
 * looks at were read without problems; its problems join theirs.
 */
export function refine<T>(checked: Checked<T>, check: (value: T) => readonly string[]): Checked<T> {
  if (!checked.ok) return checked;
  const problems = check(checked.value);
  return problems.length > 0 ? invalid(problems) : checked;
}

/**
 * All parts read, each under its own name, or the problems of every part that had any, in
 * the order of the parts.
 */
export function combine<P extends Readonly<Record<string, Checked<unknown>>>>(
  parts: P,
): Checked<{ readonly [K in keyof P]: CheckedValue<P[K]> }> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, part] of Object.entries(parts)) {
    if (part.ok) values[name] = part.value;
    else problems.push(...part.problems);
  }
  if (problems.length > 0) return invalid(problems);
  return valid(values as { readonly [K in keyof P]: CheckedValue<P[K]> });
}

/** The value, or the error `toError` makes of every problem. */
export function valueOrThrow<T>(checked: Checked<T>, toError: (problems: readonly string[]) => Error): T {
  if (checked.ok) return checked.value;
  throw toError(checked.problems);
}
