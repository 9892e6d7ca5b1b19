/** What SQS accepts as a message body, and the digest it answers with. */
import { createHash } from "node:crypto";

/** The hex MD5 of the UTF-8 body: the SDK checks `MD5OfMessageBody` / `MD5OfBody` and rejects a wrong one. */
export const md5Hex = (body: string) => createHash("md5").update(body, "utf8").digest("hex");

/** Outside SQS's allowed body characters: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. */
function hasInvalidCharacter(body: string): boolean {
  for (const character of body) {
    const code = character.codePointAt(0) ?? 0;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (!allowed) return true;
  }
  return false;
}

/** Why SQS would refuse this body, or undefined. */
export function bodyProblem(body: unknown, maxMessageBytes: number): string | undefined {
  if (typeof body !== "string" || body.length === 0) return "The message body must be a non-empty string.";
  if (Buffer.byteLength(body) > maxMessageBytes)
    return `One or more parameters are invalid. Reason: Message must be shorter than ${maxMessageBytes} bytes.`;
  if (hasInvalidCharacter(body)) return "Invalid characters found in the message body.";
  return undefined;
}
