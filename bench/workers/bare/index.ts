/**
 * The baseline for the L1 ceiling: a bare Hono Worker in the same runtime that
 * returns a fixed body (the same bytes our Worker serves from L1) with no cache work.
 */
import { Hono } from "hono";

const app = new Hono<{ Bindings: { BODY: string } }>();
app.get("*", (c) => c.body(c.env.BODY, 200, { "Content-Type": "application/json" }));

export default app;
