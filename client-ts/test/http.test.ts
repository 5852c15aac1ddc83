// Queries and mutations over HTTP against the in-test server: results, typed errors, transport
// failures, abort, timeout and headers.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { AccordError, createClient, isAccordError, type FetchLike } from "../src/index.js";
import { procedures, type Procedures } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";
import { rejection } from "./support.js";

let server: TestServer;
before(async () => (server = await startServer()));
after(() => server.close());

const clientFor = (extra: { fetch?: FetchLike; headers?: () => Record<string, string>; timeoutMs?: number } = {}) =>
  createClient<Procedures>({ url: server.url, procedures, ...extra });

describe("http calls", () => {
  beforeEach(() => {
    server.httpRequests = [];
    server.httpOverride = undefined;
  });

  it("returns typed results and omits params for void input", async () => {
    const client = clientFor();
    assert.deepEqual(await client.todos.get({ id: 1 }), { id: 1, title: "todo 1", done: false });
    assert.deepEqual(await client.todos.create({ title: "milk" }), { id: 3, title: "milk", done: false });
    const all = await client.todos.list();
    assert.equal(all.length, 2);
    const list = server.httpRequests.find((r) => (r.body as { method: string }).method === "todos.list");
    assert.ok(list && !("params" in (list.body as object)), "void input sends no params");
    const get = server.httpRequests[0];
    assert.deepEqual((get?.body as { params: unknown }).params, { id: 1 });
    assert.equal((get?.body as { jsonrpc: string }).jsonrpc, "2.0");
  });

  it("throws a typed domain error with its data", async () => {
    const client = clientFor();
    const e = await rejection(client.todos.get({ id: 404 }));
    assert.ok(client.todos.get.isError(e));
    assert.ok(e instanceof AccordError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, "NOT_FOUND");
    assert.equal(e.rpcCode, 1000);
    assert.equal(e.message, "todo 404 does not exist");
    assert.equal(e.method, "todos.get");
    assert.equal(e.requestId, "srv-req");
    assert.equal(e.httpStatus, 200);
    if (e.code === "NOT_FOUND") assert.equal(e.data.id, 404);
    else assert.fail("narrowing");
    assert.equal(client.todos.list.isError(e), false, "isError is per procedure");

    const taken = await rejection(client.todos.create({ title: "taken" }));
    assert.ok(client.todos.create.isError(taken) && taken.code === "TITLE_TAKEN");
    assert.equal(taken.data.title, "taken");
  });

  it("throws framework errors", async () => {
    const client = clientFor();
    const e = await rejection(client.todos.get({ id: 500 }));
    assert.ok(client.todos.get.isError(e));
    assert.equal(e.code, "INTERNAL");
    assert.equal(e.rpcCode, -32603);
    const bad = await rejection(client.todos.get({ id: "x" as unknown as number }));
    assert.ok(client.todos.get.isError(bad) && bad.code === "INVALID_PARAMS");
    assert.equal(bad.data.path, "id");
  });

  it("maps error objects without data.code by their JSON-RPC code", async () => {
    server.httpOverride = (_body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
      return true;
    };
    const e = await rejection(clientFor().todos.list());
    assert.ok(isAccordError(e));
    assert.equal(e.code, "PARSE_ERROR");
  });

  for (const [name, status, body] of [
    ["non-JSON 200", 200, "<html>oops</html>"],
    ["JSON that is not JSON-RPC", 200, JSON.stringify({ hello: "world" })],
    ["a reply to another id", 200, JSON.stringify({ jsonrpc: "2.0", id: 999_999, result: 1 })],
    ["a malformed error object", 200, JSON.stringify({ jsonrpc: "2.0", id: 1, error: "boom" })],
    ["an array", 200, "[]"],
    ["JSON null", 200, "null"],
    ["HTTP 500 without JSON", 500, "Internal Server Error"],
    ["HTTP 502 with an empty body", 502, ""],
  ] as const) {
    it(`turns ${name} into TRANSPORT`, async () => {
      server.httpOverride = (_b, res) => {
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(body);
        return true;
      };
      const client = clientFor();
      const e = await rejection(client.todos.get({ id: 1 }));
      assert.ok(client.todos.get.isError(e), `got ${String(e)}`);
      assert.equal(e.code, "TRANSPORT");
      assert.equal(e.rpcCode, -32099);
      if (e.code === "TRANSPORT") assert.equal(e.data.status, status);
      assert.equal(e.httpStatus, status);
      assert.match(e.requestId ?? "", /^[0-9a-f-]{36}$/);
    });
  }

  it("keeps a JSON-RPC error sent with a non-2xx status", async () => {
    server.httpOverride = (_b, res) => {
      res.writeHead(429, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32029, message: "slow down", data: { code: "RATE_LIMITED", retryAfterMs: 250 } } }));
      return true;
    };
    const client = clientFor();
    const e = await rejection(client.todos.list());
    assert.ok(client.todos.list.isError(e) && e.code === "RATE_LIMITED");
    assert.equal(e.data.retryAfterMs, 250);
    assert.equal(e.httpStatus, 429);
  });

  it("turns network failures into TRANSPORT", async () => {
    const client = createClient<Procedures>({ url: "http://127.0.0.1:1/rpc", procedures });
    const e = await rejection(client.todos.list());
    assert.ok(client.todos.list.isError(e) && e.code === "TRANSPORT");
    assert.ok(e.cause !== undefined);
  });

  it("rejects with the signal's reason when aborted", async () => {
    const client = clientFor();
    const ctl = new AbortController();
    const p = client.todos.get({ id: 10_500 }, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 20);
    const e = await rejection(p);
    assert.ok(e instanceof Error && e.name === "AbortError", `got ${String(e)}`);
    assert.equal(isAccordError(e), false);

    const reason = new Error("user left");
    const pre = new AbortController();
    pre.abort(reason);
    assert.equal(await rejection(client.todos.list(undefined, { signal: pre.signal })), reason);
  });

  it("rejects with TIMEOUT after timeoutMs, per call or by default", async () => {
    const client = clientFor({ timeoutMs: 30 });
    const started = Date.now();
    const e = await rejection(client.todos.get({ id: 10_500 }));
    assert.ok(Date.now() - started < 400);
    assert.ok(client.todos.get.isError(e) && e.code === "TIMEOUT");
    assert.equal(e.rpcCode, -32048);
    assert.equal(e.data.timeoutMs, 30);
    assert.equal(e.requestId, undefined, "no request id of its own: several requests may have carried the call");
    const tagged = await rejection(client.todos.get({ id: 10_500 }, { headers: { "X-Request-Id": "mine" } }));
    assert.ok(isAccordError(tagged) && tagged.requestId === "mine");

    const perCall = await rejection(clientFor().todos.get({ id: 10_500 }, { timeoutMs: 10 }));
    assert.ok(isAccordError(perCall) && perCall.code === "TIMEOUT");
    // Infinity lifts the client's default.
    assert.equal((await client.todos.get({ id: 10_050 }, { timeoutMs: Infinity })).id, 10_050);
  });

  it("calls the headers function per request and merges per-call headers", async () => {
    let calls = 0;
    const client = clientFor({ headers: () => ({ Authorization: `Bearer t${++calls}`, "x-app": "a" }) });
    await client.todos.list();
    await client.todos.get({ id: 1 }, { headers: { "X-App": "b", "x-request-id": "abc" } });
    assert.equal(calls, 2);
    const [first, second] = server.httpRequests;
    assert.equal(first?.headers["authorization"], "Bearer t1");
    assert.equal(second?.headers["authorization"], "Bearer t2");
    assert.equal(first?.headers["x-app"], "a");
    assert.equal(second?.headers["x-app"], "b");
    assert.match(String(first?.headers["x-request-id"]), /^[0-9a-f-]{36}$/);
    assert.equal(second?.headers["x-request-id"], "abc");
    assert.equal(first?.headers["content-type"], "application/json");
  });

  it("uses an injected fetch", async () => {
    const seen: string[] = [];
    const fetch: FetchLike = async (url, init) => {
      seen.push(`${url} ${init.body}`);
      return { status: 200, text: async () => JSON.stringify({ jsonrpc: "2.0", id: JSON.parse(init.body).id, result: [] }) };
    };
    const client = createClient<Procedures>({ url: "http://example.invalid/rpc", procedures, fetch });
    assert.deepEqual(await client.todos.list(), []);
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? "", /todos\.list/);
  });
});

describe("client shape", () => {
  it("rejects a kind table with an unknown kind at runtime", () => {
    const table = { todos: { get: "stream" } } as unknown as typeof procedures;
    assert.throws(() => createClient<Procedures>({ url: "http://x/rpc", procedures: table }), /unknown kind "stream"/);
  });

  it("lets a namespace called close win, keeping $close", () => {
    type P = { close: { now: { kind: "mutation"; input: void; output: null; error: never } } };
    const c = createClient<P>({ url: "http://x/rpc", procedures: { close: { now: "mutation" } } });
    assert.equal(typeof c.close.now, "function");
    assert.equal(c.close.now.method, "close.now");
    c.$close();
  });
});
