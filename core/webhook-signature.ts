/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/), runtime-neutral: Web
 * Crypto HMAC-SHA256 only, so the Worker verifies with it and a Lambda signs with it. The
 * event app verifies with the `standardwebhooks` package; test/core/webhook-signature.test.ts
 * holds the two to one wire format, both ways.
 *
 * The signed content is `<webhook-id>.<webhook-timestamp>.<body>`; the key is the base64
 * part of a `whsec_…` secret; `webhook-signature` is one or more space-separated
 * `v1,<base64 MAC>` entries (a sender mid-rotation may send one per secret).
 */

/** How far a timestamp may be from now, either way, before a delivery is refused. */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

/** The secret format every reader checks (the event Lambda's and the Worker's settings). */
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/=]{16,}$/;

export const WEBHOOK_HEADER_NAMES = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;

// A type, not an interface: it then fits a plain headers record (HeadersInit, WebhookHeaderSource).
export type WebhookHeaders = {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
};

/** Where signature headers are read from: a `Headers` object or a plain record (any case). */
export type WebhookHeaderSource = Headers | Readonly<Record<string, string | undefined>>;

export type WebhookVerification =
  | {
      readonly ok: true;
      readonly id: string;
      readonly timestampSeconds: number;
      /** Which of the secrets signed it (0-based): a rotation is done once none is signed with the old one. */
      readonly secretIndex: number;
    }
  | { readonly ok: false; readonly reason: WebhookRefusal };

/** For logs only: answering with it would tell an attacker which check failed. */
export type WebhookRefusal =
  | "missing signature headers"
  | "malformed timestamp"
  | "timestamp too old"
  | "timestamp too new"
  | "no matching signature";

export class WebhookSecretError extends Error {
  override readonly name = "WebhookSecretError";
}

/** Bounds the work an unauthenticated request can cause: entries past these are not tried. */
const MAX_SIGNATURE_ENTRIES = 8;
const MAX_HEADER_LENGTH = 1024;
const SIGNATURE_VERSION = "v1";

const encoder = new TextEncoder();

/** The three headers that sign `body` as delivery `id` sent at `timestampSeconds`. */
export async function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string | Uint8Array,
): Promise<WebhookHeaders> {
  if (!Number.isSafeInteger(timestampSeconds)) {
    throw new RangeError(`webhook timestamp must be whole seconds, got ${timestampSeconds}`);
  }
  const mac = await hmac(await importKey(secret), signedContent(id, String(timestampSeconds), body));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": `${SIGNATURE_VERSION},${toBase64(mac)}`,
  };
}

/**
 * Checks a delivery against every secret (two during a rotation): the headers are present,
 * the timestamp is within WEBHOOK_TOLERANCE_SECONDS of `nowSeconds`, and one `v1`
 * signature matches `body` exactly as received (bytes, or the text they decode to).
 */
export async function verifyWebhook(
  secrets: readonly string[],
  headers: WebhookHeaderSource,
  body: string | Uint8Array,
  nowSeconds: number,
): Promise<WebhookVerification> {
  const id = headerOf(headers, "webhook-id");
  const timestamp = headerOf(headers, "webhook-timestamp");
  const signature = headerOf(headers, "webhook-signature");
  if (!id || !timestamp || !signature) return refused("missing signature headers");
  // Digits only: parseInt would take "12abc" or "1e9" and sign a different text than it checks.
  if (!/^\d{1,15}$/.test(timestamp)) return refused("malformed timestamp");
  const timestampSeconds = Number(timestamp);
  if (nowSeconds - timestampSeconds > WEBHOOK_TOLERANCE_SECONDS) return refused("timestamp too old");
  if (timestampSeconds - nowSeconds > WEBHOOK_TOLERANCE_SECONDS) return refused("timestamp too new");

  const offered = signature
    .split(" ")
    .slice(0, MAX_SIGNATURE_ENTRIES)
    .flatMap((entry) => {
      const comma = entry.indexOf(",");
      return comma > 0 && entry.slice(0, comma) === SIGNATURE_VERSION
        ? [encoder.encode(entry.slice(comma + 1))]
        : [];
    });
  if (offered.length === 0) return refused("no matching signature");

  const content = signedContent(id, timestamp, body);
  for (const [secretIndex, secret] of secrets.entries()) {
    const expected = encoder.encode(toBase64(await hmac(await importKey(secret), content)));
    // Every offered entry is compared, matching or not, so the time taken says nothing.
    let matched = false;
    for (const candidate of offered) matched = constantTimeEqual(candidate, expected) || matched;
    if (matched) return { ok: true, id, timestampSeconds, secretIndex };
  }
  return refused("no matching signature");
}

function refused(reason: WebhookRefusal): WebhookVerification {
  return { ok: false, reason };
}

function headerOf(headers: WebhookHeaderSource, name: string): string | undefined {
  let value: string | null | undefined;
  if (headers instanceof Headers) value = headers.get(name);
  else {
    value = headers[name];
    if (value === undefined) {
      for (const [key, candidate] of Object.entries(headers)) {
        if (key.toLowerCase() === name) value = candidate;
      }
    }
  }
  return value && value.length <= MAX_HEADER_LENGTH ? value : undefined;
}

function signedContent(id: string, timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const payload = typeof body === "string" ? encoder.encode(body) : body;
  const content = new Uint8Array(prefix.byteLength + payload.byteLength);
  content.set(prefix, 0);
  content.set(payload, prefix.byteLength);
  return content;
}

async function importKey(secret: string): Promise<CryptoKey> {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  } catch (error) {
    // The secret itself never goes into the message.
    throw new WebhookSecretError("webhook secret is not whsec_<base64>", { cause: error });
  }
  if (raw.byteLength === 0) throw new WebhookSecretError("webhook secret is empty");
  return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
}

async function hmac(key: CryptoKey, content: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, content));
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Time depends on the lengths only (public: a MAC's encoded length is fixed), never on the bytes. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let difference = 0;
  for (let index = 0; index < a.byteLength; index++)
    difference |= (a[index] as number) ^ (b[index] as number);
  return difference === 0;
}
