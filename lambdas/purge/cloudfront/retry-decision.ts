/**
 * Which CreateInvalidation errors another attempt may fix. `TooManyInvalidationsInProgress`
 * (which the SDK does not retry), throttling and 5xx / network errors the SDK gave up on
 * are worth waiting for; anything else (e.g. AccessDenied, InvalidArgument) fails at once.
 */
export function isRetryableCloudFrontError(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (!e || typeof e !== "object") return false;
  if (e.name === "TooManyInvalidationsInProgress") return true;
  if (e.name === "Throttling" || e.name === "ThrottlingException" || e.name === "RequestLimitExceeded")
    return true;
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault === "server" || (status !== undefined && status >= 500)) return true;
  // No HTTP answer at all (connection refused, reset, timed out).
  return status === undefined;
}
