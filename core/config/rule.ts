/**
 * A rule turns one set value into a typed one, or refuses it. Rules never see an unset
 * value (undefined, null or ""): whether that is allowed is the setting's business
 * (core/config/settings.ts).
 */
export type RuleResult<T> =
  | { readonly ok: true; readonly value: T }
  /** Without reasons the problem reads "<value> is not <expected>". */
  | { readonly ok: false; readonly reasons?: readonly string[] };

export interface Rule<T> {
  /** What the rule accepts, in words ("an integer from 1 to 100"): every problem names it. */
  readonly expected: string;
  parse(raw: unknown): RuleResult<T>;
}

export function accept<T>(value: T): RuleResult<T> {
  return { ok: true, value };
}

/**
 * Reasons must not quote the value: a secret's problem is reported like any other, and
 * only the setting knows whether its value may be shown.
 */
export function refuse(reasons?: readonly string[]): RuleResult<never> {
  return reasons && reasons.length > 0 ? { ok: false, reasons } : { ok: false };
}
