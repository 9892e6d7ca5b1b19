/**
 * One-line errors for a local service that does not answer, naming the URL tried: fetch itself
 * only says `fetch failed`, with the reason (ECONNREFUSED, ENOTFOUND…) buried in its cause.
 */

export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
}

/** The system's word for why a request failed (ECONNREFUSED…), else the innermost message. */
export function fetchFailureReason(error: unknown): string {
  const outer = error as { name?: string; message?: string; cause?: unknown };
  if (outer?.name === "TimeoutError" || outer?.name === "AbortError") return "timed out";
  const cause = outer?.cause as { code?: unknown; message?: unknown; errors?: unknown } | undefined;
  if (typeof cause?.code === "string") return cause.code;
  // Several addresses tried (localhost as ::1 and 127.0.0.1): an AggregateError whose parts carry the code.
  const first = Array.isArray(cause?.errors)
    ? (cause.errors[0] as { code?: unknown } | undefined)
    : undefined;
  if (typeof first?.code === "string") return first.code;
  if (typeof cause?.message === "string" && cause.message) return cause.message;
  return outer?.message || String(error);
}

/** fetch, but a request that gets no answer throws UnreachableError naming `what` and `url`. */
export async function fetchNamed(
  what: string,
  url: string,
  init?: RequestInit,
  fetchImpl: typeof fetch = fetch,
): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (error) {
    throw new UnreachableError(`could not reach ${what} at ${url} (${fetchFailureReason(error)})`, {
      cause: error,
    });
  }
}
