/** The bounded body reader: a declared length is refused unread, a streamed body is not read past the cap. */
import { describe, expect, it } from "vitest";
import { BodyTooLargeError, readBoundedBody, readBoundedText } from "../../core/bounded-body";

/** A body that hands out `chunk` on every pull, for ever (or `limit` times), counting the pulls. */
function endlessBody(chunk: Uint8Array, limit = Number.POSITIVE_INFINITY) {
  const counter = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        counter.pulls += 1;
        if (counter.pulls > limit) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        counter.cancelled = true;
      },
    },
    // Pulled only when read, so the counter shows what the reader asked for.
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

function post(body: ReadableStream<Uint8Array> | string | null, headers: Record<string, string> = {}) {
  return new Request("http://reader.test/", { method: "POST", body, headers, duplex: "half" } as RequestInit);
}

describe("readBoundedBody", () => {
  it("refuses a declared Content-Length over the cap without reading a byte", async () => {
    const { stream, counter } = endlessBody(new Uint8Array(1024));
    const request = post(stream, { "content-length": String(64 * 1024 * 1024) });
    await expect(readBoundedBody(request, 1000)).rejects.toThrow(BodyTooLargeError);
    await expect(readBoundedBody(post("x", { "content-length": "1001" }), 1000)).rejects.toThrow(
      "body exceeds 1000 bytes",
    );
    expect(counter.pulls).toBe(0);
  });

  it("stops reading an undeclared body at the first chunk past the cap, and cancels it", async () => {
    const { stream, counter } = endlessBody(new Uint8Array(300));
    const error = await readBoundedBody(post(stream), 1000).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BodyTooLargeError);
    expect((error as BodyTooLargeError).maxBytes).toBe(1000);
    // 4 × 300 bytes passes 1000: the 4th chunk is the last one read.
    expect(counter.pulls).toBe(4);
    expect(counter.cancelled).toBe(true);
  });

  it("joins the chunks of a body within the cap, up to exactly the cap", async () => {
    const { stream } = endlessBody(new Uint8Array([1, 2, 3, 4, 5]), 200);
    const bytes = await readBoundedBody(post(stream), 1000);
    expect(bytes.byteLength).toBe(1000);
    expect([...bytes.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 1]);
    expect([...bytes.subarray(995)]).toEqual([1, 2, 3, 4, 5]);
  });

  it("reads no body as empty, and text as UTF-8 (a lying small Content-Length does not lift the cap)", async () => {
    expect((await readBoundedBody(new Request("http://reader.test/"), 10)).byteLength).toBe(0);
    expect(await readBoundedText(post("grüße 😀"), 100)).toBe("grüße 😀");
    const { stream } = endlessBody(new Uint8Array(600));
    await expect(readBoundedBody(post(stream, { "content-length": "10" }), 1000)).rejects.toThrow(
      BodyTooLargeError,
    );
  });

  it("trusts Content-Length only when it is a plain decimal", async () => {
    const refused = async (value: string) =>
      (await readBoundedBody(post("x", { "content-length": value }), 1000).catch(
        (error: unknown) => error,
      )) instanceof BodyTooLargeError;
    expect(await refused("1001")).toBe(true);
    expect(await refused(" 1001 ")).toBe(true);
    // Not a length it can rely on: the body is read, and it is one byte.
    for (const value of ["1e9", "-1", "1001, 1001"]) expect(await refused(value), value).toBe(false);
  });
});
