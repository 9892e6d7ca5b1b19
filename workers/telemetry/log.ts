/**
 * The Worker's logger: one flat JSON object per event, which Workers Logs indexes field by
 * field (wrangler.toml `[observability]`), so operators filter and group by `event`, `route`,
 * `tier` or `requestId` instead of searching text. Built once per isolate (workers/index.ts)
 * and handed to every part that logs, the engine included (engineLogger).
 *
 * Fields are primitives the code chooses: never a request's or an answer's body, headers or
 * credentials. As a second line of defence, a field whose name reads like a credential is
 * replaced by REDACTED whatever its value, and long strings are cut at MAX_LOG_TEXT_LENGTH.
 */

export type LogLevel = "info" | "warn" | "error";
export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogValue>>;

/** What a sink receives: `event` first, undefined fields left out. */
export interface LogRecord {
  readonly event: string;
  readonly [field: string]: string | number | boolean | null;
}

export type LogSink = (level: LogLevel, record: LogRecord) => void;

export interface EdgeLog {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export const REDACTED = "[redacted]";
/** Past this a string is cut: an error text or a path must not turn one event into kilobytes. */
export const MAX_LOG_TEXT_LENGTH = 1024;
const CREDENTIAL_FIELD = /authorization|cookie|token|secret|password|signature|body/i;

/**
 * Workers Logs takes the level from the console method and indexes an object's fields
 * (a string would be one opaque `message`).
 */
export const consoleSink: LogSink = (level, record) => {
  if (level === "info") console.info(record);
  else if (level === "warn") console.warn(record);
  else console.error(record);
};

function bounded(value: string): string {
  return value.length > MAX_LOG_TEXT_LENGTH ? `${value.slice(0, MAX_LOG_TEXT_LENGTH)}…` : value;
}

export function logRecord(event: string, fields: LogFields = {}): LogRecord {
  const record: Record<string, string | number | boolean | null> = { event };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || name === "event") continue;
    if (CREDENTIAL_FIELD.test(name)) record[name] = REDACTED;
    else record[name] = typeof value === "string" ? bounded(value) : value;
  }
  return record as LogRecord;
}

export function createEdgeLog(sink: LogSink = consoleSink): EdgeLog {
  return {
    info: (event, fields) => sink("info", logRecord(event, fields)),
    warn: (event, fields) => sink("warn", logRecord(event, fields)),
    error: (event, fields) => sink("error", logRecord(event, fields)),
  };
}

/** A log that keeps its records, for tests and tools that read what was logged. */
export function recordingLog(): EdgeLog & {
  readonly records: Array<{ readonly level: LogLevel; readonly record: LogRecord }>;
} {
  const records: Array<{ level: LogLevel; record: LogRecord }> = [];
  return { ...createEdgeLog((level, record) => records.push({ level, record })), records };
}

/** An error as log fields: its name and message (and stack, cut), never its `cause` chain's data. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    return { error: error.name, errorMessage: error.message, errorStack: error.stack };
  }
  return error === undefined ? {} : { error: typeof error, errorMessage: String(error) };
}

/**
 * The console-shaped logger the engine and its parts take (core/cache: `logger.warn(message,
 * error)`), writing `event` records with the message and the error's fields.
 */
export function engineLogger(log: EdgeLog, event = "engine"): Pick<Console, "warn" | "error"> {
  const write =
    (level: "warn" | "error") =>
    (message?: unknown, ...details: unknown[]): void => {
      const error = details.find((detail) => detail instanceof Error) ?? details[0];
      log[level](event, { message: String(message), ...errorFields(error) });
    };
  return { warn: write("warn"), error: write("error") };
}
