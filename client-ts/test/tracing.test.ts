// W3C trace context: generated ids, the headers helper on real calls, and the link.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, isTraceparent, newTraceContext, traceHeaders, traceLink } from "../src/index.js";
import { procedures, type Procedures } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";

let server: TestServer;
before(async () => (server = await startServer()));
after(() => server.close());

describe("trace context", () => {
  it("starts valid, distinct, sampled traces", () => {
    const a = newTraceContext();
    const b = newTraceContext();
    assert.ok(isTraceparent(a.traceparent), a.traceparent);
    assert.ok(a.traceparent.endsWith("-01"));
    assert.ok(newTraceContext(false).traceparent.endsWith("-00"));
    assert.notEqual(a.traceparent.slice(3, 35), b.traceparent.slice(3, 35));
    for (const bad of ["", "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]) {
      assert.ok(!isTraceparent(bad), bad);
    }
  });

  it("sends the caller's context, or a new trace, with every HTTP call", async () => {
    const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let current: string | undefined = parent;
    const client = createClient<Procedures>({
      url: server.url,
      procedures,
      headers: () => traceHeaders(() => (current === undefined ? undefined : { traceparent: current, tracestate: "k=v" })),
    });
    server.httpRequests = [];
    await client.todos.get({ id: 1 });
    current = "not a traceparent";
    await client.todos.get({ id: 1 });
    const [first, second] = server.httpRequests;
    assert.equal(first?.headers["traceparent"], parent);
    assert.equal(first?.headers["tracestate"], "k=v");
    const fresh = second?.headers["traceparent"];
    assert.ok(typeof fresh === "string" && isTraceparent(fresh) && fresh !== parent, String(fresh));
  });

  it("adds the headers as a link, keeping a call's own traceparent", async () => {
    const link = traceLink(() => ({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }));
    const seen: Record<string, string>[] = [];
    const next = async (op: { headers: Record<string, string> }) => (seen.push(op.headers), "ok");
    assert.equal(await link({ headers: {} }, next), "ok");
    await link({ headers: { traceparent: "mine" } }, next);
    assert.equal(seen[0]?.["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assert.equal(seen[1]?.["traceparent"], "mine");
  });
});
