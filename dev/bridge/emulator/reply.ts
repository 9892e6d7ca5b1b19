/**
 * A reply as the emulator builds it: RESP2's kinds, with bulk strings as binary strings
 * (bytes.ts), so the Lua runner and the bridge can each convert it their own way.
 */
import type { Bin } from "./bytes";

/** `+OK`-style simple string. */
export class StatusReply {
  constructor(readonly text: string) {}
}

/**
 * `-ERR …`: top level it fails the command; inside an array it is one element (EXEC,
 * scripts). The message is bytes (a binary string), as it may quote the command's arguments.
 * RESP cannot carry a line break in an error: Redis trims them from the ends and turns the
 * others into spaces (addReplyErrorFormat), and so does this.
 */
export class ErrorReply {
  readonly message: Bin;

  constructor(message: Bin) {
    this.message = message.replace(/^[\r\n]+|[\r\n]+$/g, "").replace(/[\r\n]/g, " ");
  }
}

/** null is the nil bulk (and nil multi-bulk); number an integer; Bin a bulk string. */
export type Reply = null | number | Bin | StatusReply | ErrorReply | Reply[];

export const OK = new StatusReply("OK");
