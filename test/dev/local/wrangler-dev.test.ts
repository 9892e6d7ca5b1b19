import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../../../dev/local/ports";
import { startWranglerDev, WranglerDevError } from "../../../dev/local/wrangler-dev";

describe("startWranglerDev", () => {
  it("refuses a port something already listens on, rather than taking its answers for the Worker's", async () => {
    const port = await freePort();
    const squatter = createServer((socket) => socket.end("HTTP/1.1 404 Not Found\r\n\r\n"));
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const started = startWranglerDev({ port, vars: {}, readyTimeoutMs: 2_000 });
      await expect(started).rejects.toThrow(WranglerDevError);
      await expect(started).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
