/**
 * The baseline for the L1 ceiling: a bare Hono Worker in the same runtime that returns a
 * fixed body (the same bytes our Worker serves from L1) with no cache work. With HEADERS
 * (a JSON object) it also sends those headers, the ones our Worker sends with an L1 hit,
 * so the two differ by the cache work alone.
 */
import { Hono } from "hono";

type Bindings = { BODY: string; HEADERS?: string };

let headers: Record<string, string> | undefined;

const app = new Hono<{ Bindings: Bindings }>();
app.get("*", (c) => {
  headers ??= { "Content-Type": "application/json", ...(c.env.HEADERS ? JSON.parse(c.env.HEADERS) : {}) };
  return c.body(c.env.BODY, 200, headers);
});

export default app;
