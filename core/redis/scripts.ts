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
import {
  READ_LISTINGS_SCRIPT,
  RELEASE_WARM_LOCK_SCRIPT,
  WARM_COLLECTION_SCRIPT,
  WARM_PAGE_SCRIPT,
} from "./listing-views";
import { READ_LOG_SCRIPT } from "./read-log-script";
import { READ_RECORDS_SCRIPT } from "./read-records-script";
import { TOKEN_BUCKET_SCRIPT } from "./token-bucket-script";

export interface PinnedScript {
  readonly source: string;
  /** Lowercase hex SHA-1 of `source`. */
  readonly sha1: string;
}

export const REDIS_SCRIPTS = {
  fill: { source: FILL_SCRIPT, sha1: "b4456d4feb990eb15e0c5da908e533e80d82369d" },
  readLog: { source: READ_LOG_SCRIPT, sha1: "0ecb44734923dab2a0d4c46de8758a45bda3c753" },
  applyEvent: { source: APPLY_EVENT_SCRIPT, sha1: "68b7e10c8fffb3f13498bbb84a26aff17c4084fd" },
  readRecords: { source: READ_RECORDS_SCRIPT, sha1: "f73e0ce49e415fc818118147a715082ea088347d" },
  readListings: { source: READ_LISTINGS_SCRIPT, sha1: "c7261166494e58bf719b9995e25be8caff746b43" },
  warmPage: { source: WARM_PAGE_SCRIPT, sha1: "df9c512d5ad3cb4fcf3dbbaa63dfe5136d7a65df" },
  warmCollection: { source: WARM_COLLECTION_SCRIPT, sha1: "ccfb6c3576d0cab91d86ae62989ddef8d0bdabf8" },
  releaseWarmLock: { source: RELEASE_WARM_LOCK_SCRIPT, sha1: "c0fe86dca9a7825a3e95860568351409cafd1294" },
  tokenBucket: { source: TOKEN_BUCKET_SCRIPT, sha1: "ae1539985975b9acaf1e5b6049becbcfaac22cdb" },
} as const satisfies Record<string, PinnedScript>;
