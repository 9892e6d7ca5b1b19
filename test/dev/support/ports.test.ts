import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startWranglerDev, WranglerDevError } from "../../../dev/local/wrangler-dev";
import { freePort, isPortFree, RESERVED_PORT_RANGE } from "../../../dev/support/ports";
import { startVarnish, VarnishStartError } from "../../../dev/varnish/varnishd";

const { low, high } = RESERVED_PORT_RANGE;
/** A draw that lands on the given port, for Math.random's place. */
const drawFor = (port: number) => (port - low + 0.5) / (high - low);
/** Draws the given ports in turn. */
function draws(...ports: number[]): () => number {
  let next = 0;
  return () => drawFor(ports[Math.min(next++, ports.length - 1)] as number);
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("freePort", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("gives ports below the OS's ephemeral range, each once per process, each bindable", async () => {
    if (process.platform === "linux") {
      const [ephemeralLow] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/);
      expect(Number(ephemeralLow)).toBeGreaterThanOrEqual(high);
    }
    const reservationDirectory = mkdtempSync(join(tmpdir(), "ports-"));
    const ports: number[] = [];
    for (let i = 0; i < 30; i++) ports.push(await freePort({ reservationDirectory }));
    expect(new Set(ports).size).toBe(30);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(low);
      expect(port).toBeLessThan(high);
    }
    for (const port of ports.slice(0, 3)) servers.push(await listenOn(port));
    expect(readdirSync(reservationDirectory).map(Number).sort()).toEqual([...ports].sort());
  });

  it("passes over a port another live process reserved, and one something listens on", async () => {
    const reservationDirectory = mkdtempSync(join(tmpdir(), "ports-"));
    const [reservedElsewhere, held, free] = [low + 101, low + 102, low + 103];
    writeFileSync(join(reservationDirectory, String(reservedElsewhere)), String(process.ppid));
    const holder = await listenOn(held);
    servers.push(holder);
    expect(await isPortFree(free)).toBe(true);
    const port = await freePort({ reservationDirectory, random: draws(reservedElsewhere, held, free) });
    expect(port).toBe(free);
    expect(readFileSync(join(reservationDirectory, String(reservedElsewhere)), "utf8")).toBe(
      String(process.ppid),
    );
    // The same draw again in this process is refused: it was handed out already.
    const again = await freePort({ reservationDirectory, random: draws(free, low + 104) });
    expect(again).toBe(low + 104);
  });

  it("takes over the reservation of a process that has exited", async () => {
    const reservationDirectory = mkdtempSync(join(tmpdir(), "ports-"));
    const port = low + 201;
    writeFileSync(join(reservationDirectory, String(port)), String(deadPid()));
    expect(await freePort({ reservationDirectory, random: draws(port) })).toBe(port);
    expect(readFileSync(join(reservationDirectory, String(port)), "utf8")).toBe(String(process.pid));
  });

  it("sweeps the reservations of dead processes on first use, and leaves live ones", async () => {
    const reservationDirectory = mkdtempSync(join(tmpdir(), "ports-"));
    const dead = deadPid();
    for (const port of [low + 301, low + 302])
      writeFileSync(join(reservationDirectory, String(port)), String(dead));
    writeFileSync(join(reservationDirectory, String(low + 303)), String(process.ppid));
    writeFileSync(join(reservationDirectory, String(low + 304)), "not a pid");
    const port = await freePort({ reservationDirectory, random: draws(low + 305) });
    expect(readdirSync(reservationDirectory).map(Number).sort()).toEqual([low + 303, port].sort());
  });

  it("removes this process's reservations when it exits", () => {
    const reservationDirectory = mkdtempSync(join(tmpdir(), "ports-"));
    const script = `import { freePort } from ${JSON.stringify(join(import.meta.dirname, "../../../dev/support/ports.ts"))};
      const ports = [await freePort({ reservationDirectory: ${JSON.stringify(reservationDirectory)} }), await freePort({ reservationDirectory: ${JSON.stringify(reservationDirectory)} })];
      process.stdout.write(JSON.stringify(ports));`;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toHaveLength(2);
    expect(readdirSync(reservationDirectory)).toEqual([]);
  });
});

describe("the children that take a port number", () => {
  it("refuse a port something already listens on, rather than take its answers for their own", async () => {
    const port = await freePort();
    const squatter = createServer((socket) => socket.end("HTTP/1.1 404 Not Found\r\n\r\n"));
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const worker = startWranglerDev({ port, vars: {}, readyTimeoutMs: 2_000 });
      await expect(worker).rejects.toThrow(WranglerDevError);
      await expect(worker).rejects.toThrow(`port ${port} is already in use`);
      const front = startVarnish({ role: "front", backend: { host: "127.0.0.1", port: 1 }, port });
      await expect(front).rejects.toThrow(VarnishStartError);
      await expect(front).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
