/** The bearer token of the bridges the test harness starts. */
export const TEST_BRIDGE_TOKEN = "test-bridge-token";

/**
 * The fresh windows of the data classes before events covered them (core/data-classes.ts): the
 * workerd tests and the chaos world step through these, so stale serving is seen within seconds.
 */
export const SHORT_FRESH_WINDOWS = {
  availability: { l1FreshMs: 5_000, l1MaxMs: 30_000 },
  pricing: { l1FreshMs: 15_000, l1MaxMs: 60_000 },
  gpu: { l1FreshMs: 30_000, l1MaxMs: 120_000 },
  provider: { l1FreshMs: 15_000, l1MaxMs: 60_000 },
  "market-stats": { l1FreshMs: 10_000, l1MaxMs: 30_000 },
  "order-book": { l1FreshMs: 2_000, l1MaxMs: 10_000 },
};
