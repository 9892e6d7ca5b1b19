/**
 * Redis replies → Upstash REST JSON. With `Upstash-Encoding: base64` every string
 * at any depth is base64 of its raw bytes (status replies too: a plain `string`
 * from TYPE is valid base64 and the client would decode it into garbage).
 */
import { NestedReplyError, type RedisReply } from "./backend";

export type ResponseEncoding = "base64" | "utf8";

export type JsonReply = null | number | string | JsonReply[];

const decoder = new TextDecoder();

/** Without an intermediate copy: a pipeline reply can hold hundreds of thousands of these. */
function toBase64(value: string | Uint8Array): string {
  if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
  return Buffer.isBuffer(value)
    ? value.toString("base64")
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
}

export function encodeReply(reply: RedisReply, encoding: ResponseEncoding): JsonReply {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, encoding));
  // An error inside an array (a Lua table, a nested EXEC) has no JSON slot of its own: send its text.
  const value = reply instanceof NestedReplyError ? reply.message : reply;
  if (encoding === "base64") return toBase64(value);
  return typeof value === "string" ? value : decoder.decode(value);
}

/** SSE payloads are never base64 (the client reads them as text, comma-separated). */
export function sseText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
