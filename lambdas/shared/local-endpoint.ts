/**
 * AWS SDK clients pointed at a loopback endpoint talk to the local fakes (dev/fakes), which
 * check only that requests are signed: they get throwaway credentials, so real ones are
 * never sent to a local port.
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(endpoint);
}

export const LOCAL_FAKE_CREDENTIALS = { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" } as const;
