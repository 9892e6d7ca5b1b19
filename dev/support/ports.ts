/**
 * Ports for the children the local stack starts (wrangler, varnishd, redis-server), which take
 * a port number rather than reporting one they chose themselves.
 *
 * Why not ask the OS (listen on 0, close, hand the number on): the number goes back to the
 * ephemeral pool the moment it is closed, and a child needs seconds before it binds (wrangler
 * builds first). Any other program that listens on 0 in that window, or opens an outgoing
 * connection, may be given the same number. In a parallel test run one did: the bench's
 * Worker port answered 404 from someone else's server. So the number comes from below the
 * ephemeral range, where the OS never hands out ports on its own, and it is reserved, for as
 * long as this process lives, with a file other processes of ours respect.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Below Linux's default ephemeral range (32768–60999) and macOS's (49152–65535); high excluded. */
export const RESERVED_PORT_RANGE = { low: 20_000, high: 32_000 } as const;
const ATTEMPTS = 500;

const DEFAULT_RESERVATION_DIRECTORY = join(tmpdir(), "gpu-edge-cache-ports");
/** Reservation files this process made, by path, removed when it exits. */
const reservedHere = new Set<string>();

export interface FreePortOptions {
  /** Where reservation files live; every process of ours must use the same one. */
  readonly reservationDirectory?: string;
  /** [0, 1), as Math.random; injected by tests that need a given draw. */
  readonly random?: () => number;
}

/** True when nothing listens on 127.0.0.1:port right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The machine's ephemeral range, where it can be read; undefined elsewhere. */
function ephemeralRange(): { low: number; high: number } | undefined {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    return low && high ? { low, high } : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the reservation file names a live process; false when it is gone or holds no pid. */
function heldByLiveProcess(path: string): boolean {
  try {
    const owner = Number(readFileSync(path, "utf8"));
    return Number.isInteger(owner) && owner > 0 && processAlive(owner);
  } catch {
    return false;
  }
}

function releaseAll(): void {
  for (const path of reservedHere) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  reservedHere.clear();
}

/** Reservation directories swept in this process (once each). */
const swept = new Set<string>();

/**
 * Removes the reservations of processes that have died (a test worker killed at the end of a
 * run never reaches its exit handler), so the directory holds about what live processes hold.
 */
function sweepDeadReservations(directory: string): void {
  if (swept.has(directory)) return;
  swept.add(directory);
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (heldByLiveProcess(path)) continue;
    try {
      unlinkSync(path);
    } catch {
      // gone meanwhile, or taken over by another sweep
    }
  }
}

/** Claims the port's reservation file; a file whose process has died is taken over. */
function reserve(directory: string, port: number): boolean {
  const path = join(directory, String(port));
  if (reservedHere.has(path)) return false;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      if (reservedHere.size === 0) process.once("exit", releaseAll);
      reservedHere.add(path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (heldByLiveProcess(path)) return false;
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first; the next open tells
      }
    }
  }
  return false;
}

/** A port the OS assigned just now; the fallback where the ephemeral range covers ours. */
function osAssignedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port the OS assigned"));
      });
    });
  });
}

/**
 * A port free on 127.0.0.1 and reserved for this process: no other process of ours is given it
 * while this one lives, and the OS does not give it to programs that listen on 0.
 */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const { low, high } = RESERVED_PORT_RANGE;
  const ephemeral = ephemeralRange();
  if (ephemeral && ephemeral.low < high && ephemeral.high >= low) return osAssignedPort();
  const directory = options.reservationDirectory ?? DEFAULT_RESERVATION_DIRECTORY;
  const random = options.random ?? Math.random;
  mkdirSync(directory, { recursive: true });
  sweepDeadReservations(directory);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = low + Math.floor(random() * (high - low));
    if (!reserve(directory, port)) continue;
    // Reserved but held (a fixed-port service on this machine): keep the reservation, so the
    // next attempt draws another number.
    if (await isPortFree(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high} after ${ATTEMPTS} tries`);
}
