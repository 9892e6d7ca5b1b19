/**
 * The body of POST /_cache/purge and its limits:
 * `{ "tags"?: string[], "pathPrefixes"?: string[], "purgeEverything"?: true, "mode"?: "purge" | "invalidate" }`,
 * exactly one of the three targets. Every problem is reported, not just the first.
 */
import { EDGE_PURGE_LIMITS, type EdgePurgeMode, type EdgePurgeTarget } from "../../core/edge-purge";

export const MAX_PURGE_BODY_BYTES = EDGE_PURGE_LIMITS.bodyBytes;
export const MAX_PURGE_TAGS = EDGE_PURGE_LIMITS.tagsPerCall;
export const MAX_PURGE_PREFIXES = EDGE_PURGE_LIMITS.prefixesPerCall;
export const MAX_PURGE_ENTRY_LENGTH = EDGE_PURGE_LIMITS.entryLength;

export type PurgeMode = EdgePurgeMode;
export type PurgeTarget = EdgePurgeTarget;

export interface PurgeRequest {
  readonly target: PurgeTarget;
  /** `invalidate` keeps the copies but makes the cache revalidate them with the Worker. */
  readonly mode: PurgeMode;
}

export class InvalidPurgeRequestError extends Error {
  override readonly name = "InvalidPurgeRequestError";
  constructor(
    readonly problems: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`invalid purge request: ${problems.join("; ")}`, options);
  }
}

const TARGETS = ["tags", "pathPrefixes", "purgeEverything"] as const;
const FIELDS = [...TARGETS, "mode"];
const MODES: readonly string[] = ["purge", "invalidate"] satisfies PurgeMode[];

/**
 * Visible ASCII, no blanks: the HTTP front protocol sends tags and prefixes space-separated
 * in one header (workers/cache-purge/http-front-purger.ts), so a blank would split one in two.
 */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Decodes and checks a body already read within MAX_PURGE_BODY_BYTES. */
export function parsePurgeBody(bytes: Uint8Array): PurgeRequest {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (error) {
    throw new InvalidPurgeRequestError(["body is not UTF-8 text"], { cause: error });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InvalidPurgeRequestError(["body is not valid JSON"], { cause: error });
  }
  return parsePurgeRequest(body);
}

export function parsePurgeRequest(body: unknown): PurgeRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidPurgeRequestError(["body must be a JSON object"]);
  }
  const record = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of Object.keys(record)) {
    if (!FIELDS.includes(field)) problems.push(`unknown field '${field}' (known: ${FIELDS.join(", ")})`);
  }
  const given = TARGETS.filter((target) => record[target] !== undefined);
  if (given.length !== 1) {
    problems.push(
      given.length === 0
        ? `give one of ${TARGETS.join(", ")}`
        : `give only one of ${TARGETS.join(", ")}, got ${given.join(" and ")}`,
    );
  }
  const mode = record.mode ?? "purge";
  if (typeof mode !== "string" || !MODES.includes(mode))
    problems.push(`mode: must be "purge" or "invalidate"`);

  let target: PurgeTarget | undefined;
  if (record.tags !== undefined) {
    const tags = entries(record.tags, "tags", MAX_PURGE_TAGS, problems, (tag) =>
      tag.length <= MAX_PURGE_ENTRY_LENGTH && VISIBLE_ASCII.test(tag)
        ? undefined
        : `must be 1 to ${MAX_PURGE_ENTRY_LENGTH} visible ASCII characters, no blanks`,
    );
    if (tags) target = { tags };
  }
  if (record.pathPrefixes !== undefined) {
    const pathPrefixes = entries(
      record.pathPrefixes,
      "pathPrefixes",
      MAX_PURGE_PREFIXES,
      problems,
      (prefix) =>
        prefix.startsWith("/") && prefix.length <= MAX_PURGE_ENTRY_LENGTH && VISIBLE_ASCII.test(prefix)
          ? undefined
          : `must start with '/' and be at most ${MAX_PURGE_ENTRY_LENGTH} visible ASCII characters, no blanks`,
    );
    if (pathPrefixes) target = { pathPrefixes };
  }
  if (record.purgeEverything !== undefined) {
    if (record.purgeEverything === true) target = { purgeEverything: true };
    else problems.push("purgeEverything: must be true when given");
  }

  if (problems.length > 0 || !target) throw new InvalidPurgeRequestError(problems);
  return { target, mode: mode as PurgeMode };
}

/** A list of 1 to `max` strings, each passing `check` (which names what is wrong, or nothing). */
function entries(
  value: unknown,
  field: string,
  max: number,
  problems: string[],
  check: (entry: string) => string | undefined,
): string[] | undefined {
  if (!Array.isArray(value)) {
    problems.push(`${field}: must be an array of strings`);
    return undefined;
  }
  if (value.length === 0 || value.length > max) {
    problems.push(`${field}: must list 1 to ${max} entries, got ${value.length}`);
    return undefined;
  }
  const before = problems.length;
  for (const [index, entry] of value.entries()) {
    const problem =
      typeof entry === "string" && entry.length > 0 ? check(entry) : "must be a non-empty string";
    if (problem) problems.push(`${field}[${index}]: ${problem}`);
  }
  return problems.length === before ? (value as string[]) : undefined;
}
