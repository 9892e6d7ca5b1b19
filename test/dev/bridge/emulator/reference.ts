/**
 * Differential testing: the same commands against the harness's real redis-server and
 * against an emulator backend, replies compared after the same normalisation.
 */
import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { NestedReplyError, type RedisBackend, type RedisReply } from "../../../../dev/bridge/backend";
import { createEmulatorBackend, type EmulatorBackendOptions } from "../../../../dev/bridge/emulator-backend";
import { createIoredisBackend } from "../../../../dev/bridge/ioredis-backend";

/** A command as text; every byte of it is sent as is (latin1), so "\xff" is the byte 0xff. */
export type TextCommand = readonly string[];

/** A reply with bytes as latin1 text and nested errors as {error}, comparable across backends. */
export type Normalized = null | number | string | { error: string } | Normalized[];

export type Outcome = { ok: Normalized } | { error: string };

export function normalize(reply: RedisReply): Normalized {
  if (reply === null || typeof reply === "number" || typeof reply === "string") return reply;
  if (reply instanceof NestedReplyError) return { error: reply.message };
  if (Array.isArray(reply)) return reply.map(normalize);
  return Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength).toString("latin1");
}

export function toCommand([name = "", ...args]: TextCommand) {
  return { name: name.toUpperCase(), args: args.map((arg) => Buffer.from(arg, "latin1")) };
}

/** Runs commands in order on one backend, each slot its reply or error. */
export async function runAll(backend: RedisBackend, commands: readonly TextCommand[]): Promise<Outcome[]> {
  const outcomes = await backend.pipeline(commands.map(toCommand));
  return outcomes.map((outcome) =>
    outcome.ok ? { ok: normalize(outcome.value) } : { error: outcome.error },
  );
}

/** The harness's real redis-server, straight (no bridge). */
export async function openReference(): Promise<RedisBackend> {
  const url = inject("redisUrl");
  if (!url)
    throw new Error(
      "these tests compare the emulator with redis-server: install it (apt-get install redis-server)",
    );
  return createIoredisBackend({ url, transactionConnections: 1 });
}

export function openEmulator(options: EmulatorBackendOptions = {}): RedisBackend {
  return createEmulatorBackend(options);
}

const RUN_ID = randomUUID().slice(0, 8);
let counter = 0;

/** A key prefix unused on the shared redis-server. */
export function freshPrefix(label: string): string {
  counter += 1;
  return `emu-${RUN_ID}-${label}-${counter}`;
}

/** Replaces `{p}` in every argument with `prefix`. */
export function withPrefix(commands: readonly TextCommand[], prefix: string): TextCommand[] {
  return commands.map((command) => command.map((arg) => arg.replaceAll("{p}", prefix)));
}
