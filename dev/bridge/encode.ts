/**
 * Redis replies → Upstash REST JSON. With `Upstash-Encoding: base64` every string
 * at any depth is base64 of its raw bytes (status replies too: a plain `string`
 * from TYPE is valid base64 and the client would decode it into garbage).
 */
import { NestedReplyError, type RedisReply } from "./backend";

export type ResponseEncoding = "base64" | "utf8";

export type JsonReply = null | number | string | JsonReply[];

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function bytesOf(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function encodeReply(reply: RedisReply, encoding: ResponseEncoding): JsonReply {
  if (reply === null || typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, encoding));
  // An error inside an array (a Lua table, a nested EXEC) has no JSON slot of its own: send its text.
  const value = reply instanceof NestedReplyError ? reply.message : reply;
  if (encoding === "base64") return toBase64(bytesOf(value));
  return typeof value === "string" ? value : decoder.decode(value);
}

/** SSE payloads are never base64 (the client reads them as text, comma-separated). */
export function sseText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
