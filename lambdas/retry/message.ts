/**
 * The purge-retry queue's message, defined once: the event Lambda writes it when a
 * purge still fails after its in-process retries, the retry handler reads it.
 *
 * `{ v: 1, retry, eventIds, firstFailedAt, lastError }`: `retry` is the purger's own
 * `PurgeRetry` (only what is still owed), `eventIds` the events whose purges it
 * carries (one coalesced CloudFront batch can owe paths for many), `firstFailedAt`
 * when the event Lambda gave up on it, `lastError` why. An SQS body is immutable, so
 * the retry handler logs later errors instead of rewriting `lastError`.
 *
 * A body that does not decode (not JSON, another version, a bad `retry`) is a poison
 * message: decoding never throws, it says why (lambdas/retry/handler.ts decides what
 * happens to it).
 */
import * as z from "zod";
import type { Clock } from "../../core/time/clock";
import { purgeRetrySchema } from "../purge/purger";

export const RETRY_MESSAGE_VERSION = 1;

/** SQS's default (and, for SendMessageBatch, per-request) size limit; AWS allows up to 1 MiB since 2025. */
export const MAX_RETRY_MESSAGE_BYTES = 256 * 1024;

/** `lastError` is for people; a CDN error body must not fill the message. */
const MAX_LAST_ERROR_CHARS = 2_000;

/**
 * Unknown top-level fields are ignored, so a writer may add one without making its
 * messages poison to a reader deployed before it; a change a v1 reader would misread
 * needs a new `v`.
 */
export const retryMessageSchema = z.object({
  v: z.literal(RETRY_MESSAGE_VERSION),
  retry: purgeRetrySchema,
  eventIds: z.array(z.string().min(1)),
  firstFailedAt: z.iso.datetime({ offset: true }),
  lastError: z.string(),
});

export type RetryMessage = z.infer<typeof retryMessageSchema>;

export type DecodedRetryMessage =
  | { readonly ok: true; readonly message: RetryMessage }
  | { readonly ok: false; readonly poison: string };

/**
 * A message for `retry` owed by `eventIds`, failed now by `clock` (wall-clock time: it is
 * written as a date); `lastError` is shortened to a readable length.
 */
export function retryMessage(
  retry: RetryMessage["retry"],
  eventIds: readonly string[],
  lastError: string,
  clock: Clock,
): RetryMessage {
  return {
    v: RETRY_MESSAGE_VERSION,
    retry,
    eventIds: [...new Set(eventIds)],
    firstFailedAt: new Date(clock.now()).toISOString(),
    lastError:
      lastError.length > MAX_LAST_ERROR_CHARS ? `${lastError.slice(0, MAX_LAST_ERROR_CHARS)}…` : lastError,
  };
}

/** The SQS body; throws a ZodError for a message that would not decode (a bug in the writer, not data). */
export function encodeRetryMessage(message: RetryMessage): string {
  return JSON.stringify(retryMessageSchema.parse(message));
}

export function decodeRetryMessage(body: string): DecodedRetryMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, poison: "body is not JSON" };
  }
  const parsed = retryMessageSchema.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`,
  );
  return { ok: false, poison: problems.slice(0, 5).join("; ") };
}
