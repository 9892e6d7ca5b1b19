/**
 * The logger the Lambdas' code takes, injected: a message and the fields of one structured
 * line. In Lambda it is the powertools Logger built once per cold start in the handler module
 * (lambdas/shared/powertools.ts), which prints each call as one JSON line; on Node (the local
 * stack, dev/) `console` satisfies it too; tests pass a recording one.
 *
 * Fields carry ids, types, counts, outcomes and latencies, never an event's data, a request
 * body or a secret: a log group is readable by more people than the data behind it.
 */

/** One line's fields; keys are camelCase (the powertools keys `level`, `message`, `service`, `timestamp` are its own). */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * A line is a message and (usually one) fields object; several are merged, later keys winning,
 * as powertools merges them. The signature is the one powertools' Logger and `console` share.
 */
export interface Logger {
  info(message: string, ...fields: LogFields[]): void;
  warn(message: string, ...fields: LogFields[]): void;
  error(message: string, ...fields: LogFields[]): void;
}

export const SILENT_LOGGER: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** `logger` with `fields` on every line (a delivery's `webhookId`, a message's `messageId`). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  const merged = (more: readonly LogFields[]): LogFields => Object.assign({}, fields, ...more);
  return {
    info: (message, ...more) => logger.info(message, merged(more)),
    warn: (message, ...more) => logger.warn(message, merged(more)),
    error: (message, ...more) => logger.error(message, merged(more)),
  };
}

/** Ids named in one line; the count is always given beside them. */
export const MAX_LOGGED_IDS = 20;

/** The first MAX_LOGGED_IDS of `ids`: a batch of 100 events must not make a line of every id. */
export function loggedIds(ids: readonly string[]): string[] {
  return ids.slice(0, MAX_LOGGED_IDS);
}

/**
 * An error as a log line may show it. @upstash/redis puts the whole request in its messages
 * (`…, command was: [["evalsha",…]]`: every record an event writes) and the response body in
 * UpstashJSONParseError's; neither goes in a log. Stacks are left out for the same reason:
 * they start with the message.
 */
export function describeError(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return typeof error;
  const message =
    error.name === "UpstashJSONParseError"
      ? "Unable to parse response body"
      : error.message.split(", command was:")[0]?.slice(0, 300);
  const cause =
    depth < 2 && error.cause !== undefined ? ` (cause: ${describeError(error.cause, depth + 1)})` : "";
  return `${error.name}: ${message}${cause}`;
}
