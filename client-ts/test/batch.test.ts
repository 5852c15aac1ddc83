// Same-tick batching over HTTP against the in-test server: what goes out in one request, what
// splits, and how each call still settles on its own.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createClient, isAccordError, type FetchInit, type FetchLike } from "../src/index.js";
import { procedures, type Procedures } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";

let server: TestServer;
before(async () => (server = await startServer()));
after(() => server.close());
beforeEach(() => {
  server.httpRequests = [];
  server.httpOverride = undefined;
  server.failures = {};
});

type Options = Parameters<typeof createClient<Procedures>>[0];
const clientFor = (extra: Partial<Options> = {}) => createClient<Procedures>({ url: server.url, procedures, retry: false, ...extra });

async function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

const bodies = (): unknown[] => server.httpRequests.map((r) => r.body);

describe("same-tick batching", () => {
  it("sends calls made in one tick as one batch, each settling on its own", async () => {
    const client = clientFor();
    const [a, missing, b, list] = await Promise.all([
      settled(client.todos.get({ id: 1 })),
      settled(client.todos.get({ id: 404 })),
      settled(client.todos.create({ title: "milk" })),
      settled(client.todos.list()),
    ]);
    assert.equal(server.httpRequests.length, 1);
    const [batch] = bodies();
    assert.ok(Array.isArray(batch) && batch.length === 4, JSON.stringify(batch));
    assert.deepEqual(a, { ok: true, value: { id: 1, title: "todo 1", done: false } });
    assert.ok(!missing.ok && client.todos.get.isError(missing.error) && missing.error.code === "NOT_FOUND");
    assert.ok(b.ok && b.value.title === "milk");
    assert.ok(list.ok && list.value.length === 2);
    assert.ok(!("params" in (batch[3] as object)), "void input still sends no params");
  });

  it("sends a lone call as a plain request", async () => {
    await clientFor().todos.get({ id: 2 });
    assert.equal(server.httpRequests.length, 1);
    assert.ok(!Array.isArray(bodies()[0]));
  });

  it("sends one request per call with batch: false", async () => {
    const client = clientFor({ batch: false });
    await Promise.all([1, 2, 3].map((id) => client.todos.get({ id })));
    assert.equal(server.httpRequests.length, 3);
    assert.ok(bodies().every((b) => !Array.isArray(b)));
  });

  it("never puts more than maxCalls in a request", async () => {
    const client = clientFor({ batch: { maxCalls: 2 } });
    const todos = await Promise.all([1, 2, 3, 4, 5].map((id) => client.todos.get({ id })));
    assert.deepEqual(todos.map((t) => t.id), [1, 2, 3, 4, 5]);
    assert.deepEqual(bodies().map((b) => (Array.isArray(b) ? b.length : 1)), [2, 2, 1]);
  });

  it("splits by bytes, and sends a call larger than maxBytes alone", async () => {
    const client = clientFor({ batch: { maxBytes: 400 } });
    const title = "x".repeat(100); // each call ~160 bytes: two fit
    await Promise.all([
      client.todos.create({ title }),
      client.todos.create({ title }),
      client.todos.create({ title: "y".repeat(500) }),
      client.todos.get({ id: 1 }),
    ]);
    const shape = server.httpRequests.map((r) => (Array.isArray(r.body) ? r.body.length : 1));
    assert.deepEqual(shape, [2, 1, 1]);
    const sizes = server.httpRequests.map((r) => JSON.stringify(r.body).length);
    assert.ok((sizes[0] ?? 0) <= 400 && (sizes[1] ?? 0) > 400, JSON.stringify(sizes));
  });

  it("takes an aborted call out of the batch before it leaves", async () => {
    const client = clientFor();
    const ctl = new AbortController();
    const kept = client.todos.get({ id: 1 });
    const dropped = settled(client.todos.get({ id: 2 }, { signal: ctl.signal }));
    const other = client.todos.get({ id: 3 });
    ctl.abort();
    assert.deepEqual([(await kept).id, (await other).id], [1, 3]);
    const outcome = await dropped;
    assert.ok(!outcome.ok && outcome.error instanceof Error && outcome.error.name === "AbortError");
    const [batch] = bodies();
    assert.ok(Array.isArray(batch) && batch.length === 2);
    assert.ok(!JSON.stringify(batch).includes('"id":2}'), "the aborted call never left");
  });

  it("keeps calls with different headers in different requests", async () => {
    const client = clientFor();
    await Promise.all([
      client.todos.get({ id: 1 }, { headers: { authorization: "Bearer a" } }),
      client.todos.get({ id: 2 }, { headers: { Authorization: "Bearer a" } }),
      client.todos.get({ id: 3 }, { headers: { authorization: "Bearer b" } }),
    ]);
    const auth = server.httpRequests.map((r) => `${r.headers["authorization"]}:${Array.isArray(r.body) ? r.body.length : 1}`);
    assert.deepEqual(auth.sort(), ["Bearer a:2", "Bearer b:1"]);
  });

  it("gives every call a whole-request error (id null), and TRANSPORT to a call the reply left out", async () => {
    server.httpOverride = (_body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32010, message: "batch too big", data: { code: "BATCH_TOO_BIG" } } }));
      return true;
    };
    const client = clientFor();
    const outcomes = await Promise.all([settled(client.todos.get({ id: 1 })), settled(client.todos.get({ id: 2 }))]);
    for (const o of outcomes) assert.ok(!o.ok && isAccordError(o.error) && o.error.code === "BATCH_TOO_BIG");

    server.httpOverride = (body, res) => {
      const calls = JSON.parse(body) as Array<{ id: number }>;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify([{ jsonrpc: "2.0", id: calls[0]?.id, result: { id: 1, title: "t", done: false } }]));
      return true;
    };
    const [first, second] = await Promise.all([settled(client.todos.get({ id: 1 })), settled(client.todos.get({ id: 2 }))]);
    assert.ok(first.ok);
    assert.ok(!second.ok && isAccordError(second.error) && second.error.code === "TRANSPORT");
  });

  it("sends the deadline: the header for the request, meta.timeoutMs per batch entry", async () => {
    const client = clientFor();
    await client.todos.get({ id: 1 }, { timeoutMs: 5_000 });
    const single = server.httpRequests[0];
    const told = Number(single?.headers["x-accord-timeout-ms"]);
    assert.ok(told > 4_000 && told <= 5_000, `header ${told}`);

    server.httpRequests = [];
    await Promise.all([client.todos.get({ id: 1 }, { timeoutMs: 2_000 }), client.todos.get({ id: 2 }, { timeoutMs: 8_000 })]);
    const [batch] = server.httpRequests;
    const header = Number(batch?.headers["x-accord-timeout-ms"]);
    assert.ok(header > 7_000 && header <= 8_000, "the header is the longest wait in the batch");
    const metas = (batch?.body as Array<{ meta?: { timeoutMs: number } }>).map((e) => e.meta?.timeoutMs ?? 0);
    assert.ok((metas[0] ?? 0) <= 2_000 && (metas[0] ?? 0) > 1_000 && (metas[1] ?? 0) > 7_000, JSON.stringify(metas));

    server.httpRequests = [];
    await Promise.all([client.todos.get({ id: 1 }, { timeoutMs: 2_000 }), client.todos.get({ id: 2 })]);
    assert.equal(server.httpRequests[0]?.headers["x-accord-timeout-ms"], undefined, "a call without a deadline: no bound");
  });

  it("aborts the request once every call in it was aborted", async () => {
    const seen: FetchInit[] = [];
    const fetch: FetchLike = (_url, init) => {
      seen.push(init);
      return new Promise((_resolve, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    };
    const client = createClient<Procedures>({ url: "http://example.invalid/rpc", procedures, fetch, retry: false });
    const a = new AbortController();
    const b = new AbortController();
    const calls = [settled(client.todos.get({ id: 1 }, { signal: a.signal })), settled(client.todos.get({ id: 2 }, { signal: b.signal }))];
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.length, 1);
    a.abort();
    assert.equal(seen[0]?.signal.aborted, false, "one call still waits");
    b.abort();
    assert.equal(seen[0]?.signal.aborted, true);
    for (const o of await Promise.all(calls)) assert.ok(!o.ok && (o.error as Error).name === "AbortError");
  });
});
