// The link chain and the retry link against the in-test server: order, headers, token refresh,
// which calls are retried, and how retries respect deadlines and aborts.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createClient, isAccordError, retryLink, type Link } from "../src/index.js";
import { createClient as createHttpClient } from "../src/http.js";
import { procedures, type Procedures } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";
import { rejection } from "./support.js";

let server: TestServer;
before(async () => (server = await startServer()));
after(() => server.close());
beforeEach(() => {
  server.httpRequests = [];
  server.httpOverride = undefined;
  server.failures = {};
});

type Options = Parameters<typeof createClient<Procedures>>[0];
const clientFor = (extra: Partial<Options> = {}) => createClient<Procedures>({ url: server.url, procedures, ...extra });

const sent = (method: string): number =>
  server.httpRequests.flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body])).filter((b) => (b as { method?: string }).method === method).length;

describe("links", () => {
  it("run in order around the transport, once per attempt, and may set headers", async () => {
    const trace: string[] = [];
    const tag =
      (name: string): Link =>
      async (op, next) => {
        trace.push(`${name}>${op.method}#${op.attempt}`);
        const result = await next({ ...op, headers: { ...op.headers, [`x-${name}`]: String(op.attempt) } });
        trace.push(`<${name}`);
        return result;
      };
    server.failures["todos.get"] = 1;
    const client = clientFor({ links: [tag("a"), tag("b")] });
    assert.equal((await client.todos.get({ id: 1 })).id, 1);
    assert.deepEqual(trace, ["a>todos.get#1", "b>todos.get#1", "a>todos.get#2", "b>todos.get#2", "<b", "<a"]);
    const last = server.httpRequests.at(-1);
    assert.equal(last?.headers["x-a"], "2");
    assert.equal(last?.headers["x-b"], "2");
  });

  it("can refresh a token and send the call again", async () => {
    let token = "stale";
    server.httpOverride = (body, res) => {
      const call = JSON.parse(body) as { id: number };
      const ok = server.httpRequests.length > 0; // the first request is refused
      server.httpRequests.push({ headers: {}, body: call });
      res.writeHead(200, { "content-type": "application/json" });
      const reply = ok
        ? { result: { id: 7, title: token, done: false } }
        : { error: { code: -32041, message: "sign in", data: { code: "UNAUTHENTICATED" } } };
      res.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, ...reply }));
      return true;
    };
    const refresh: Link = async (op, next) => {
      try {
        return await next(op);
      } catch (e) {
        if (!isAccordError(e) || e.code !== "UNAUTHENTICATED") throw e;
        token = "fresh";
        return next({ ...op, headers: { ...op.headers, authorization: `Bearer ${token}` } });
      }
    };
    const todo = await clientFor({ links: [refresh] }).todos.get({ id: 7 });
    assert.equal(todo.title, "fresh");
    assert.equal(server.httpRequests.length, 2);
  });

  it("see the call's context, kind and idempotency", async () => {
    const seen: string[] = [];
    const spy: Link = (op, next) => {
      seen.push(`${op.method} ${op.kind} ${op.idempotent} ${String(op.context["tag"])}`);
      return next(op);
    };
    const client = clientFor({ links: [spy] });
    await client.todos.get({ id: 1 }, { context: { tag: "g" } });
    await client.todos.create({ title: "t" });
    await client.todos.update({ id: 1, done: true });
    assert.deepEqual(seen, ["todos.get query true g", "todos.create mutation false undefined", "todos.update mutation true undefined"]);
  });
});

describe("retries", () => {
  it("retry queries on UNAVAILABLE until they succeed, within the attempts", async () => {
    const client = clientFor({ retry: { baseDelayMs: 1 } });
    server.failures["todos.get"] = 2;
    assert.equal((await client.todos.get({ id: 1 })).id, 1);
    assert.equal(sent("todos.get"), 3);

    server.httpRequests = [];
    server.failures["todos.get"] = 5;
    const e = await rejection(client.todos.get({ id: 1 }));
    assert.ok(isAccordError(e) && e.code === "UNAVAILABLE");
    assert.equal(sent("todos.get"), 3, "3 attempts in all by default");
  });

  it("never retry a mutation unless it is declared idempotent", async () => {
    const client = clientFor();
    server.failures["todos.create"] = 1;
    const e = await rejection(client.todos.create({ title: "once" }));
    assert.ok(isAccordError(e) && e.code === "UNAVAILABLE");
    assert.equal(sent("todos.create"), 1);

    server.failures["todos.update"] = 1;
    assert.equal((await client.todos.update({ id: 4, done: true })).done, true);
    assert.equal(sent("todos.update"), 2);
  });

  it("are configured per client and per call", async () => {
    const none = clientFor({ retry: false });
    server.failures["todos.get"] = 1;
    assert.ok(isAccordError(await rejection(none.todos.get({ id: 1 }))));

    const client = clientFor({ retry: { attempts: 5, baseDelayMs: 1 } });
    server.failures["todos.get"] = 4;
    assert.equal((await client.todos.get({ id: 1 })).id, 1);
    server.failures["todos.get"] = 1;
    assert.ok(isAccordError(await rejection(client.todos.get({ id: 1 }, { retry: false }))));
    server.failures["todos.get"] = 2;
    assert.ok(isAccordError(await rejection(client.todos.get({ id: 1 }, { retry: { attempts: 2 } }))));

    // A custom decision may retry a mutation the caller knows to be safe.
    server.failures["todos.create"] = 1;
    const created = await client.todos.create({ title: "keyed" }, { retry: { retryOn: (e) => isAccordError(e) && e.code === "UNAVAILABLE" } });
    assert.equal(created.title, "keyed");
  });

  it("do not retry errors that another attempt cannot fix", async () => {
    const client = clientFor();
    assert.ok(isAccordError(await rejection(client.todos.get({ id: 404 }))));
    assert.ok(isAccordError(await rejection(client.todos.get({ id: 500 }))));
    assert.equal(sent("todos.get"), 2);
  });

  it("stop at the deadline instead of waiting past it", async () => {
    const client = clientFor();
    server.httpOverride = (body, res) => {
      const call = JSON.parse(body) as { id: number };
      server.httpRequests.push({ headers: {}, body: call });
      res.writeHead(200, { "content-type": "application/json" });
      const error = { code: -32029, message: "slow down", data: { code: "RATE_LIMITED", retryAfterMs: 10_000 } };
      res.end(JSON.stringify({ jsonrpc: "2.0", id: call.id, error }));
      return true;
    };
    const started = Date.now();
    const e = await rejection(client.todos.get({ id: 1 }, { timeoutMs: 2_000 }));
    assert.ok(isAccordError(e) && e.code === "RATE_LIMITED", "the server's answer, at once");
    assert.ok(Date.now() - started < 1_000);
    assert.equal(server.httpRequests.length, 1);
  });

  it("stop waiting when the caller aborts during the backoff", async () => {
    const client = clientFor({ retry: { baseDelayMs: 5_000, maxDelayMs: 5_000 } });
    server.failures["todos.get"] = 1;
    const ctl = new AbortController();
    const p = rejection(client.todos.get({ id: 1 }, { signal: ctl.signal }));
    await server.waitFor(() => server.httpRequests.length === 1);
    const started = Date.now();
    ctl.abort(new Error("gave up"));
    const e = await p;
    assert.equal((e as Error).message, "gave up");
    assert.ok(Date.now() - started < 500);
  });

  it("can be placed by hand with retryLink", async () => {
    const trace: string[] = [];
    const once: Link = (op, next) => (trace.push(`once#${op.attempt}`), next(op));
    const client = clientFor({ retry: false, links: [once, retryLink({ baseDelayMs: 1 })] });
    server.failures["todos.get"] = 1;
    await client.todos.get({ id: 1 });
    assert.deepEqual(trace, ["once#1"], "links before the retry link run once per call");
    assert.equal(sent("todos.get"), 2);
  });

  it("work the same from @accord/client/http", async () => {
    const client = createHttpClient<Procedures>({ url: server.url, procedures, retry: { baseDelayMs: 1 } });
    server.failures["todos.update"] = 1;
    await Promise.all([client.todos.update({ id: 1, done: false }), client.todos.get({ id: 2 })]);
    assert.equal(sent("todos.update"), 2);
    assert.equal(Array.isArray(server.httpRequests[0]?.body), true, "batched too");
    assert.equal("changes" in client.todos, false, "no subscriptions");
  });
});
