/** The bearer token of the bridges the test harness starts. */
export const TEST_BRIDGE_TOKEN = "test-bridge-token";
