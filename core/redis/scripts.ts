/**
 * Every Redis script the system runs, with the SHA-1 Redis knows it by, pinned.
 *
 * A script is part of the storage format, and its writers deploy apart: the Worker
 * runs the fill script, the event Lambda the apply-event script, so for a while an old
 * script and a new one work on the same keys. Pinning the hash makes a change to a
 * script's text a deliberate one: test/core/redis/scripts.test.ts fails until the pin
 * is updated with it. The pin is also the name an operator finds a script by in Redis
 * (SCRIPT EXISTS, SLOWLOG). The clients still hash the text themselves (Script.exec).
 */
import { APPLY_EVENT_SCRIPT } from "./apply-event-script";
import { FILL_SCRIPT } from "./fill-script";
import { READ_LOG_SCRIPT } from "./read-log-script";
import { TOKEN_BUCKET_SCRIPT } from "./token-bucket-script";

export interface PinnedScript {
  readonly source: string;
  /** Lowercase hex SHA-1 of `source`. */
  readonly sha1: string;
}

export const REDIS_SCRIPTS = {
  fill: { source: FILL_SCRIPT, sha1: "1a5ec1ad69ee7cc734b0d8f04f6c59bd8110de5a" },
  readLog: { source: READ_LOG_SCRIPT, sha1: "0ecb44734923dab2a0d4c46de8758a45bda3c753" },
  applyEvent: { source: APPLY_EVENT_SCRIPT, sha1: "a68a795a7bb2e8a88b7641442cd6ded8fa6fc042" },
  tokenBucket: { source: TOKEN_BUCKET_SCRIPT, sha1: "ae1539985975b9acaf1e5b6049becbcfaac22cdb" },
} as const satisfies Record<string, PinnedScript>;
