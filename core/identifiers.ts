/**
 * The identifier rule: ids, regions and GPU types travel in URL paths, Redis keys and cache
 * tags (where `:` separates parts), so they are restricted to a safe alphabet and length.
 * Defined here, without zod, so the Worker checks it without bundling zod; core/domain.ts
 * builds `identifierSchema` from the same constants and messages.
 */

export const IDENTIFIER_MAX_LENGTH = 128;
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Each broken part of the rule, worded as zod words its own checks (identifierSchema uses these). */
export const IDENTIFIER_MESSAGES = {
  empty: "Too small: expected string to have >=1 characters",
  tooLong: `Too big: expected string to have <=${IDENTIFIER_MAX_LENGTH} characters`,
  alphabet: "must be letters, digits, '.', '_' or '-'",
} as const;

export function isIdentifier(value: string): boolean {
  return value.length >= 1 && value.length <= IDENTIFIER_MAX_LENGTH && IDENTIFIER_PATTERN.test(value);
}

/** What is wrong with `value` as an identifier, in identifierSchema's order; empty when nothing is. */
export function identifierProblems(value: string): string[] {
  const problems: string[] = [];
  if (value.length < 1) problems.push(IDENTIFIER_MESSAGES.empty);
  if (value.length > IDENTIFIER_MAX_LENGTH) problems.push(IDENTIFIER_MESSAGES.tooLong);
  if (!IDENTIFIER_PATTERN.test(value)) problems.push(IDENTIFIER_MESSAGES.alphabet);
  return problems;
}
