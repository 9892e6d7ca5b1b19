/**
 * Reads a body (a request's, or a response's) of at most `maxBytes`: refused by its
 * Content-Length before any byte is read, and, when streamed without one (or with a false
 * one), reading stops and the stream is cancelled as soon as the cap is passed, so an
 * oversized body is never held.
 */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

export async function readBoundedBody(
  message: Pick<Request, "headers" | "body">,
  maxBytes: number,
): Promise<Uint8Array> {
  const tooLarge = () => new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
  const declared = message.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) throw tooLarge();
  if (!message.body) return new Uint8Array(0);

  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
