/**
 * An Upstash-compatible REST front for Redis (docs/wire-formats.md "Upstash REST"):
 * the official @upstash/redis client, unchanged, talks to it as it would to Upstash.
 *
 *   POST /             one command          → 200 {result} | 400 {error}
 *   POST /pipeline     commands, in order   → 200 [{result}|{error}, …]
 *   POST /multi-exec   commands, atomically → 200 [{result}|{error}, …] | 400 {error: EXECABORT …}
 *   POST /subscribe/:channel, /psubscribe/:pattern → text/event-stream
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { BodyTooLargeError, readBoundedText } from "../../core/bounded-body";
import { systemTimers, type Timers } from "../../core/time/clock";
import {
  type RedisBackend,
  type RedisCommand,
  RedisCommandError,
  RedisUnavailableError,
  type ReplyOutcome,
  type SubscriptionEvent,
  type SubscriptionMode,
} from "./backend";
import {
  type CheckedCommand,
  checkCommandList,
  InvalidCommandError,
  parseCommand,
  toRedisCommand,
} from "./command";
import { checkDelayMs, roundTripDelay } from "./delay";
import { encodeReply, type ResponseEncoding, sseText } from "./encode";

export interface BridgeOptions {
  readonly backend: RedisBackend;
  /** The bearer token every request must carry. */
  readonly token: string;
  /** Larger bodies are refused with 413 before they are parsed. */
  readonly maxBodyBytes?: number;
  /** Comment lines on idle SSE streams, so proxies do not cut them. */
  readonly sseHeartbeatMs?: number;
  readonly logger?: Pick<Console, "error">;
  /** Counts what clients asked for, as Upstash bills it (a pipeline of N is N commands). */
  readonly usage?: BridgeUsage;
  /**
   * Milliseconds every request waits before it is handled, to play a Redis a network hop away
   * (dev/bridge/delay.ts); default 0. A non-negative finite number, else InvalidDelayError.
   */
  readonly delayMs?: number;
  /** What the delay waits on (default: real timers); tests pass manual ones. */
  readonly timers?: Timers;
}

export interface BridgeUsage {
  /** REST requests that reached a command endpoint (round trips). */
  requests: number;
  /** Commands in them. */
  commands: number;
}

export function createBridgeUsage(): BridgeUsage {
  return { requests: 0, commands: 0 };
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_SSE_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

function errorBody(message: string) {
  return { error: message };
}

function encodingOf(request: Request): ResponseEncoding {
  return request.headers.get("upstash-encoding")?.toLowerCase() === "base64" ? "base64" : "utf8";
}

function outcomeJson(outcome: ReplyOutcome, encoding: ResponseEncoding) {
  return outcome.ok ? { result: encodeReply(outcome.value, encoding) } : errorBody(outcome.error);
}

/** SSE `data:` lines cannot hold a line break; such a message goes as a JSON string, which the client parses back. */
function ssePayload(text: string): string {
  return /[\r\n]/.test(text) ? JSON.stringify(text) : text;
}

function sseLine(event: SubscriptionEvent): string {
  if (event.kind === "message") {
    return `data: message,${sseText(event.channel)},${ssePayload(sseText(event.message))}\n\n`;
  }
  return `data: pmessage,${sseText(event.pattern)},${sseText(event.channel)},${ssePayload(sseText(event.message))}\n\n`;
}

class RequestBodyError extends Error {
  constructor(
    message: string,
    readonly status: ContentfulStatusCode,
  ) {
    super(message);
  }
}

async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  let text: string;
  try {
    text = await readBoundedText(request, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) {
      throw new RequestBodyError(`request body exceeds ${error.maxBytes} bytes`, 413);
    }
    throw error;
  }
  if (text.trim() === "") throw new RequestBodyError("request body is empty: expected a JSON array", 400);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RequestBodyError(`request body is not valid JSON: ${(error as Error).message}`, 400);
  }
}

/**
 * Pipeline commands go to the backend this many at a time. A 10 MiB body holds ~200,000
 * short commands: sent at once, every one of them is converted, queued in ioredis and
 * answered before the first reply is encoded, and nothing else on the shared connection
 * (a concurrent PING) is served until the last one is. Slices keep that bounded and let
 * other requests in between, which a pipeline allows (it is not atomic).
 */
const PIPELINE_SLICE = 1_000;

/** `[{result}|{error}, …]` text, built slice by slice so the reply is never held twice (objects and text). */
function outcomesText(outcomes: readonly ReplyOutcome[], encoding: ResponseEncoding): string {
  return JSON.stringify(outcomes.map((outcome) => outcomeJson(outcome, encoding))).slice(1, -1);
}

function jsonResponse(text: string): Response {
  return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
}

export function createBridgeApp(options: BridgeOptions): Hono {
  const { backend } = options;
  const expectedToken = digest(options.token);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const heartbeatMs = options.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS;
  const logger = options.logger ?? console;
  const delayMs = checkDelayMs(options.delayMs ?? 0);
  // Read-your-writes: the client echoes the last token it saw; any strictly new value satisfies it.
  let syncToken = 0;

  const app = new Hono();

  // First, so refused and unknown requests pay the trip too, as they would to Upstash.
  if (delayMs > 0) app.use("*", roundTripDelay(delayMs, options.timers ?? systemTimers));

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1].trim()), expectedToken)) {
      return c.json(errorBody("Unauthorized"), 401);
    }
    await next();
    c.header("upstash-sync-token", String(++syncToken));
  });

  app.onError((error, c) => {
    if (error instanceof RequestBodyError) return c.json(errorBody(error.message), error.status);
    if (error instanceof InvalidCommandError || error instanceof RedisCommandError) {
      return c.json(errorBody(error.message), 400);
    }
    if (error instanceof RedisUnavailableError) return c.json(errorBody(error.message), 503);
    logger.error("upstash bridge: unexpected error", error);
    return c.json(errorBody("internal bridge error"), 500);
  });

  app.notFound((c) => c.json(errorBody(`no such endpoint: ${c.req.method} ${c.req.path}`), 404));

  const usage = options.usage;
  /** Every command is checked before any runs: one bad or refused command refuses the whole body. */
  const commandList = async (request: Request): Promise<CheckedCommand[]> => {
    const body = await readJson(request, maxBodyBytes);
    // Parsing and checking a long list each hold the thread for a while: let others in between.
    if (Array.isArray(body) && body.length > PIPELINE_SLICE) await nextTurn();
    const commands = checkCommandList(body);
    if (usage) {
      usage.requests += 1;
      usage.commands += commands.length;
    }
    return commands;
  };

  app.post("/", async (c) => {
    const command = parseCommand(await readJson(c.req.raw, maxBodyBytes));
    if (usage) {
      usage.requests += 1;
      usage.commands += 1;
    }
    const reply = await backend.execute(command);
    return c.json({ result: encodeReply(reply, encodingOf(c.req.raw)) });
  });

  app.post("/pipeline", async (c) => {
    const commands = await commandList(c.req.raw);
    const encoding = encodingOf(c.req.raw);
    const parts: string[] = [];
    for (let start = 0; start < commands.length; start += PIPELINE_SLICE) {
      // The emulator answers without I/O: without this turn nothing else would run until the end.
      if (start > 0) await nextTurn();
      const slice = commands.slice(start, start + PIPELINE_SLICE).map(toRedisCommand);
      parts.push(outcomesText(await backend.pipeline(slice), encoding));
    }
    return jsonResponse(`[${parts.join(",")}]`);
  });

  app.post("/multi-exec", async (c) => {
    const checked = await commandList(c.req.raw);
    // Atomic, so the backend gets every command at once; they are converted a slice per turn.
    const commands: RedisCommand[] = [];
    for (let start = 0; start < checked.length; start += PIPELINE_SLICE) {
      if (start > 0) await nextTurn();
      for (const command of checked.slice(start, start + PIPELINE_SLICE))
        commands.push(toRedisCommand(command));
    }
    const outcomes = await backend.transaction(commands);
    const encoding = encodingOf(c.req.raw);
    const parts: string[] = [];
    for (let start = 0; start < outcomes.length; start += PIPELINE_SLICE) {
      if (start > 0) await nextTurn();
      parts.push(outcomesText(outcomes.slice(start, start + PIPELINE_SLICE), encoding));
    }
    return jsonResponse(`[${parts.join(",")}]`);
  });

  const subscribe = (mode: SubscriptionMode) => async (c: { req: { path: string; raw: Request } }) => {
    // The client appends the channel to the URL unencoded (fetch escapes it), so decode the rest of the path.
    const target = decodeURIComponent(c.req.path.slice(`/${mode}/`.length));
    if (target === "")
      throw new RequestBodyError(`${mode} needs a ${mode === "subscribe" ? "channel" : "pattern"}`, 400);
    const signal = c.req.raw.signal;
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let open = true;
    const send = (text: string) => {
      if (open) controller?.enqueue(encoder.encode(text));
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (streamController) => {
        controller = streamController;
      },
      cancel: () => cleanup(),
    });
    // Subscribed before answering, so an unreachable Redis is a 503, not a broken 200 stream.
    const subscription = await backend.subscribe(mode, encoder.encode(target), (event) =>
      send(sseLine(event)),
    );
    const heartbeat = setInterval(() => send(": keep-alive\n\n"), heartbeatMs);
    heartbeat.unref?.();
    const cleanup = async () => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      await subscription.close();
    };
    // The client unsubscribes by aborting its fetch; the dedicated Redis connection goes with it.
    signal.addEventListener("abort", () => void cleanup(), { once: true });
    if (signal.aborted) await cleanup();
    send(`data: ${mode},${target},${subscription.count}\n\n`);
    return new Response(stream, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
    });
  };
  app.post("/subscribe/*", subscribe("subscribe"));
  app.post("/psubscribe/*", subscribe("psubscribe"));

  for (const path of ["/", "/pipeline", "/multi-exec", "/subscribe/*", "/psubscribe/*"]) {
    app.all(path, (c) =>
      c.json(errorBody(`method ${c.req.method} is not allowed: the REST API takes POST`), 405, {
        allow: "POST",
      }),
    );
  }

  return app;
}
