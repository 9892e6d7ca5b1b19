/**
 * A network round trip, played on loopback: production Redis is a hop away from the edge
 * (Upstash answers in 1–2 ms in-region, tens of ms across regions), and a bridge on
 * 127.0.0.1 answers in microseconds, which flatters every design that talks to Redis often.
 *
 * One wait per HTTP request the bridge answers, whatever it carries: a pipeline of 50
 * commands or a script costs one wait, as it costs one round trip to Upstash.
 */
import type { MiddlewareHandler } from "hono";
import type { Timers } from "../../core/time/clock";

/** A delay that is not a non-negative, finite number of milliseconds. */
export class InvalidDelayError extends RangeError {
  override readonly name = "InvalidDelayError";
}

/** `value` as a delay in ms, or InvalidDelayError naming `what` and what it got. */
export function checkDelayMs(value: unknown, what = "delayMs"): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    const shown = typeof value === "string" ? `'${value}'` : String(value);
    throw new InvalidDelayError(`${what} must be a non-negative number of milliseconds, got ${shown}`);
  }
  return value;
}

/** A delay as the CLI takes it (`--delay-ms 20`, `2.5`); the text must be a plain decimal number. */
export function parseDelayMs(text: string, what = "--delay-ms"): number {
  // Number("") is 0 and Number("0x10") is 16: neither is what someone typing a delay meant.
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) checkDelayMs(text, what);
  return checkDelayMs(Number(text), what);
}

/**
 * Waits `delayMs` before the request is handled. The whole round trip is spent on the way
 * there, not split around the handler, so each request costs exactly one wait and a write
 * lands no sooner than a client a hop away could have made it.
 */
export function roundTripDelay(delayMs: number, timers: Timers): MiddlewareHandler {
  return async (_c, next) => {
    await new Promise<void>((resolve) => timers.setTimeout(resolve, delayMs));
    await next();
  };
}
