/**
 * core/webhook-signature.ts: our signatures and the `standardwebhooks` package's (the one
 * the event app verifies with) are one wire format, both ways; and every refusal: missing
 * headers, timestamps outside the window either way, a changed byte, a wrong secret.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
  signWebhook,
  verifyWebhook,
  WEBHOOK_SECRET_PATTERN,
  WEBHOOK_TOLERANCE_SECONDS,
  WebhookSecretError,
} from "../../core/webhook-signature";

/** Random secrets, so nothing here can be mistaken for a deployed one. */
function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
}

const SECRET = newSecret();
const OTHER_SECRET = newSecret();
const NOW = 1_800_000_000;
const BODY = JSON.stringify({ tags: ["gpu:gpu-00001", "gpus:us-east:*"], note: "héllo ✓" });

describe("signWebhook / verifyWebhook", () => {
  it("verifies what it signed, from a record or a Headers object", async () => {
    const headers = await signWebhook(SECRET, "msg_1", NOW, BODY);
    expect(headers["webhook-id"]).toBe("msg_1");
    expect(headers["webhook-timestamp"]).toBe(String(NOW));
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(await verifyWebhook([SECRET], headers, BODY, NOW)).toEqual({
      ok: true,
      id: "msg_1",
      timestampSeconds: NOW,
      secretIndex: 0,
    });
    expect((await verifyWebhook([SECRET], new Headers({ ...headers }), BODY, NOW)).ok).toBe(true);
    const upperCase = {
      "Webhook-Id": headers["webhook-id"],
      "Webhook-Timestamp": headers["webhook-timestamp"],
      "Webhook-Signature": headers["webhook-signature"],
    };
    expect((await verifyWebhook([SECRET], upperCase, BODY, NOW)).ok).toBe(true);
  });

  it("signs bytes and the text they decode to alike", async () => {
    const fromText = await signWebhook(SECRET, "msg_2", NOW, BODY);
    const fromBytes = await signWebhook(SECRET, "msg_2", NOW, new TextEncoder().encode(BODY));
    expect(fromBytes).toEqual(fromText);
    expect((await verifyWebhook([SECRET], fromText, new TextEncoder().encode(BODY), NOW)).ok).toBe(true);
  });

  it("accepts either secret of a rotation, and an entry per secret in one header", async () => {
    const byOld = await signWebhook(OTHER_SECRET, "msg_3", NOW, BODY);
    expect(await verifyWebhook([SECRET, OTHER_SECRET], byOld, BODY, NOW)).toMatchObject({
      ok: true,
      secretIndex: 1,
    });
    const byNew = await signWebhook(SECRET, "msg_3", NOW, BODY);
    const both = {
      ...byNew,
      "webhook-signature": `v2,ignored ${byOld["webhook-signature"]} ${byNew["webhook-signature"]}`,
    };
    expect((await verifyWebhook([SECRET], both, BODY, NOW)).ok).toBe(true);
    expect((await verifyWebhook([OTHER_SECRET], both, BODY, NOW)).ok).toBe(true);
  });

  it("refuses a wrong secret, a changed body, id or timestamp, and other versions", async () => {
    const headers = await signWebhook(SECRET, "msg_4", NOW, BODY);
    const noMatch = { ok: false, reason: "no matching signature" };
    expect(await verifyWebhook([OTHER_SECRET], headers, BODY, NOW)).toEqual(noMatch);
    expect(await verifyWebhook([SECRET], headers, `${BODY} `, NOW)).toEqual(noMatch);
    expect(await verifyWebhook([SECRET], { ...headers, "webhook-id": "msg_5" }, BODY, NOW)).toEqual(noMatch);
    expect(
      await verifyWebhook([SECRET], { ...headers, "webhook-timestamp": String(NOW + 1) }, BODY, NOW),
    ).toEqual(noMatch);
    const mac = headers["webhook-signature"].slice(3);
    for (const signature of [`v2,${mac}`, mac, `v1,${mac.slice(0, -2)}`, "v1,", ""]) {
      const verdict = await verifyWebhook(
        [SECRET],
        { ...headers, "webhook-signature": signature },
        BODY,
        NOW,
      );
      expect(verdict.ok, signature).toBe(false);
    }
  });

  it("takes timestamps up to the tolerance either way and refuses past it", async () => {
    for (const offset of [-WEBHOOK_TOLERANCE_SECONDS, 0, WEBHOOK_TOLERANCE_SECONDS]) {
      const headers = await signWebhook(SECRET, "msg_6", NOW + offset, BODY);
      expect((await verifyWebhook([SECRET], headers, BODY, NOW)).ok, String(offset)).toBe(true);
    }
    const old = await signWebhook(SECRET, "msg_6", NOW - WEBHOOK_TOLERANCE_SECONDS - 1, BODY);
    expect(await verifyWebhook([SECRET], old, BODY, NOW)).toEqual({ ok: false, reason: "timestamp too old" });
    const future = await signWebhook(SECRET, "msg_6", NOW + WEBHOOK_TOLERANCE_SECONDS + 1, BODY);
    expect(await verifyWebhook([SECRET], future, BODY, NOW)).toEqual({
      ok: false,
      reason: "timestamp too new",
    });
  });

  it("refuses missing headers and a timestamp that is not plain seconds", async () => {
    const headers = await signWebhook(SECRET, "msg_7", NOW, BODY);
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [name]: _dropped, ...rest } = headers;
      expect(await verifyWebhook([SECRET], rest, BODY, NOW)).toEqual({
        ok: false,
        reason: "missing signature headers",
      });
    }
    for (const timestamp of [`${NOW}abc`, "1.8e9", `-${NOW}`, ` ${NOW}`]) {
      expect(
        await verifyWebhook([SECRET], { ...headers, "webhook-timestamp": timestamp }, BODY, NOW),
      ).toEqual({ ok: false, reason: "malformed timestamp" });
    }
  });

  it("refuses a secret that is not base64, naming no part of it", async () => {
    await expect(signWebhook("whsec_not*base64!", "msg_8", NOW, BODY)).rejects.toThrow(WebhookSecretError);
    await expect(signWebhook("whsec_not*base64!", "msg_8", NOW, BODY)).rejects.not.toThrow(/not\*base64/);
    await expect(signWebhook(SECRET, "msg_8", NOW + 0.5, BODY)).rejects.toThrow(RangeError);
    expect(WEBHOOK_SECRET_PATTERN.test(SECRET)).toBe(true);
    expect(WEBHOOK_SECRET_PATTERN.test("whsec_short")).toBe(false);
  });
});

describe("interoperates with the standardwebhooks package", () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  it("its signatures verify with ours", async () => {
    const timestamp = nowSeconds();
    const signature = new Webhook(SECRET).sign("msg_theirs", new Date(timestamp * 1000), BODY);
    const headers = {
      "webhook-id": "msg_theirs",
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
    };
    expect(await verifyWebhook([OTHER_SECRET, SECRET], headers, BODY, timestamp)).toEqual({
      ok: true,
      id: "msg_theirs",
      timestampSeconds: timestamp,
      secretIndex: 1,
    });
    expect((await verifyWebhook([OTHER_SECRET], headers, BODY, timestamp)).ok).toBe(false);
  });

  it("ours verify with it, and it refuses ours for another body or secret", async () => {
    const headers = await signWebhook(SECRET, "msg_ours", nowSeconds(), BODY);
    expect(() => new Webhook(SECRET).verify(BODY, { ...headers })).not.toThrow();
    expect(new Webhook(SECRET).verify(BODY, { ...headers })).toEqual(JSON.parse(BODY));
    expect(() => new Webhook(SECRET).verify(`${BODY} `, { ...headers })).toThrow();
    expect(() => new Webhook(OTHER_SECRET).verify(BODY, { ...headers })).toThrow();
  });

  it("both produce the same signature for the same delivery", async () => {
    const ours = await signWebhook(SECRET, "msg_same", NOW, BODY);
    const theirs = new Webhook(SECRET).sign("msg_same", new Date(NOW * 1000), BODY);
    expect(ours["webhook-signature"]).toBe(theirs);
  });
});
