/**
 * Reads a body (a request's, or a response's) of at most `maxBytes`, on Web APIs only (a
 * ReadableStream reader), so the event Lambda and the Node-side dev servers share it.
 *
 * `Request.text()` reads the whole body before anyone can look at its size: a client that
 * streams a chunked body without `Content-Length` gets it buffered in full, however large.
 * Here a declared length over the cap is refused before a byte is read, and a body streamed
 * without one (or with a false one) stops being read, and is cancelled, at the first chunk
 * that passes the cap.
 */

/** The body is larger than the cap: answer 413. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";

  constructor(readonly maxBytes: number) {
    super(`body exceeds ${maxBytes} bytes`);
  }
}

/** The declared `Content-Length`, when it is a plain decimal (RFC 9110 §8.6); undefined otherwise. */
function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length")?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** The body's bytes, at most `maxBytes`; throws BodyTooLargeError past that. */
export async function readBoundedBody(
  message: Pick<Request, "headers" | "body">,
  maxBytes: number,
): Promise<Uint8Array> {
  if ((declaredLength(message.headers) ?? 0) > maxBytes) throw new BodyTooLargeError(maxBytes);
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Not awaited: a sender that never finishes must not hold the answer; the server drains or drops the rest.
      reader.cancel().catch(() => {});
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const decoder = new TextDecoder();

/** The body as UTF-8 text (invalid sequences replaced, as `Request.text()` does), at most `maxBytes`. */
export async function readBoundedText(
  message: Pick<Request, "headers" | "body">,
  maxBytes: number,
): Promise<string> {
  return decoder.decode(await readBoundedBody(message, maxBytes));
}
