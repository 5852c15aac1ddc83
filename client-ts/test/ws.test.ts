// Subscriptions and WebSocket calls against the in-test server, with `ws` injected as the
// WebSocket (Node 20 has no global one without a flag).
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import WebSocket from "ws";
import { createClient, isAccordError, type Client } from "../src/index.js";
import { procedures, type Procedures, type TodoEvent } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";
import { rejection } from "./support.js";

let server: TestServer;
let client: Client<Procedures>;
before(async () => (server = await startServer()));
after(() => server.close());
beforeEach(() => {
  server.wsMessages = [];
  server.subs = [];
  server.itemsBeforeAccept = [];
  server.refuseSubscribe = undefined;
  client = createClient<Procedures>({ url: server.url, procedures, WebSocket });
});
afterEach(() => client.close());

const created = (id: number): TodoEvent => ({ kind: "created", todo: { id, title: `t${id}`, done: false } });

describe("subscriptions", () => {
  it("delivers items, buffered ones included, and completes on error: null", async () => {
    const sub = client.todos.changes();
    const id = await sub.ready;
    assert.equal(server.wsMessages.length, 1);
    assert.equal(server.wsMessages[0]?.["method"], "todos.changes");
    assert.ok(!("params" in (server.wsMessages[0] ?? {})), "void input sends no params");
    const s = server.subs[0];
    assert.ok(s && s.id === id);
    s.send(created(1));
    s.send(created(2));
    s.send({ kind: "deleted", id: 1 });
    s.end(null);
    const got: TodoEvent[] = [];
    for await (const ev of sub) got.push(ev);
    assert.deepEqual(got, [created(1), created(2), { kind: "deleted", id: 1 }]);
    assert.ok(!server.wsMessages.some((m) => m["method"] === "todos.changes.unsubscribe"), "a completed stream needs no unsubscribe");
  });

  it("throws a typed AccordError when the stream ends with an error", async () => {
    const sub = client.todos.changes();
    await sub.ready;
    server.subs[0]?.send(created(1));
    server.subs[0]?.end({ code: 1000, message: "gone", data: { code: "NOT_FOUND", id: 9 } });
    const got: TodoEvent[] = [];
    const e = await rejection(
      (async () => {
        for await (const ev of sub) got.push(ev);
      })(),
    );
    assert.deepEqual(got, [created(1)], "items before the error are delivered first");
    assert.ok(client.todos.changes.isError(e) && e.code === "NOT_FOUND");
    assert.equal(e.data.id, 9);
    assert.deepEqual(await sub.next(), { done: true, value: undefined });
  });

  it("rejects when the server refuses the subscription", async () => {
    server.refuseSubscribe = { code: "UNAUTHENTICATED" };
    const sub = client.todos.changes();
    const e = await rejection(sub.next());
    assert.ok(client.todos.changes.isError(e) && e.code === "UNAUTHENTICATED");
    assert.equal(await rejection(sub.ready), e);
  });

  it("sends <method>.unsubscribe with [id] when the loop breaks early", async () => {
    const sub = client.todos.changes();
    const id = await sub.ready;
    server.subs[0]?.send(created(1));
    server.subs[0]?.send(created(2));
    for await (const ev of sub) {
      assert.deepEqual(ev, created(1));
      break;
    }
    await server.waitFor(() => server.wsMessages.some((m) => m["method"] === "todos.changes.unsubscribe"));
    const unsub = server.wsMessages.find((m) => m["method"] === "todos.changes.unsubscribe");
    assert.deepEqual(unsub?.["params"], [id]);
    assert.deepEqual(await sub.next(), { done: true, value: undefined }, "buffered items are dropped");
  });

  it("unsubscribe() resolves after the server acknowledged", async () => {
    const sub = client.todos.changes();
    await sub.ready;
    await sub.unsubscribe();
    assert.equal(server.subs.length, 0);
    assert.deepEqual(await sub.next(), { done: true, value: undefined });
  });

  it("unsubscribes when the signal aborts, and the pending next() rejects with the reason", async () => {
    const ctl = new AbortController();
    const sub = client.todos.changes(undefined, { signal: ctl.signal });
    await sub.ready;
    const pending = sub.next();
    const reason = new Error("stop");
    ctl.abort(reason);
    assert.equal(await rejection(pending), reason);
    await server.waitFor(() => server.subs.length === 0);
  });

  it("unsubscribes once accepted when stopped before the server answered", async () => {
    const sub = client.todos.changes();
    await sub.return();
    await server.waitFor(() => server.wsMessages.some((m) => m["method"] === "todos.changes.unsubscribe"));
    await server.waitFor(() => server.subs.length === 0);
  });

  it("throws TRANSPORT when the socket drops, with reconnect: false", async () => {
    const once = createClient<Procedures>({ url: server.url, procedures, WebSocket, reconnect: false });
    try {
      const sub = once.todos.changes();
      await sub.ready;
      const pending = sub.next();
      server.dropSockets();
      const e = await rejection(pending);
      assert.ok(once.todos.changes.isError(e) && e.code === "TRANSPORT");
      assert.match(e.message, /closed/);
      assert.equal(once.$connection.state, "closed");
      // The next subscription opens a fresh socket.
      const again = once.todos.changes();
      await again.ready;
      await again.return();
    } finally {
      once.close();
    }
  });

  it("ends with the server's UNAVAILABLE when it drains, with reconnect: false", async () => {
    const once = createClient<Procedures>({ url: server.url, procedures, WebSocket, reconnect: false });
    try {
      const sub = once.todos.changes();
      await sub.ready;
      await server.drain();
      const e = await rejection(sub.next());
      assert.ok(once.todos.changes.isError(e) && e.code === "UNAVAILABLE");
    } finally {
      once.close();
    }
  });

  it("reads a binary frame holding UTF-8 JSON (a Buffer with ws)", async () => {
    const sub = client.todos.changes();
    const id = await sub.ready;
    const item = { jsonrpc: "2.0", method: "todos.changes", params: { subscription: id, result: { kind: "deleted", id: 7 } } };
    server.subs[0]?.socket.send(Buffer.from(JSON.stringify(item)), { binary: true });
    assert.deepEqual((await sub.next()).value, { kind: "deleted", id: 7 });
  });

  it("handles items that arrive before the subscribe reply", async () => {
    server.itemsBeforeAccept = [created(1), created(2)];
    const sub = client.todos.changes();
    await sub.ready;
    server.subs[0]?.send(created(3));
    server.subs[0]?.end(null);
    const got: TodoEvent[] = [];
    for await (const ev of sub) got.push(ev);
    assert.deepEqual(got, [created(1), created(2), created(3)]);
  });

  it("ends with TRANSPORT past maxBuffered unread items and unsubscribes", async () => {
    const sub = client.todos.changes(undefined, { maxBuffered: 2 });
    await sub.ready;
    for (let i = 1; i <= 3; i++) server.subs[0]?.send(created(i));
    await server.waitFor(() => server.subs.length === 0);
    assert.deepEqual((await sub.next()).value, created(1));
    assert.deepEqual((await sub.next()).value, created(2));
    const e = await rejection(sub.next());
    assert.ok(isAccordError(e) && e.code === "TRANSPORT");
    assert.match(e.message, /overflow/);
  });

  it("multiplexes several subscriptions on one socket", async () => {
    const a = client.todos.changes();
    const b = client.todos.changes();
    const [ida, idb] = await Promise.all([a.ready, b.ready]);
    assert.notEqual(ida, idb);
    for (const s of server.subs) {
      s.send(created(s.id === ida ? 1 : 2));
      s.end(null);
    }
    const all = async (s: AsyncIterable<TodoEvent>): Promise<TodoEvent[]> => {
      const out: TodoEvent[] = [];
      for await (const ev of s) out.push(ev);
      return out;
    };
    assert.deepEqual(await Promise.all([all(a), all(b)]), [[created(1)], [created(2)]]);
    assert.equal(new Set(server.subs.map((s) => s.socket)).size <= 1, true);
  });

  it("fails with TRANSPORT when no WebSocket implementation is available", async () => {
    const noWs = createClient<Procedures>({
      url: server.url,
      procedures,
      WebSocket: undefined,
    });
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function") return; // Node 22+
    const e = await rejection(noWs.todos.changes().next());
    assert.ok(isAccordError(e) && e.code === "TRANSPORT");
    assert.match(e.message, /options\.WebSocket/);
  });
});

describe("calls over the WebSocket (transport: ws)", () => {
  it("runs concurrent calls on one socket, answered out of order", async () => {
    const ws = createClient<Procedures>({ url: server.url, procedures, WebSocket, transport: "ws" });
    try {
      const ids = [10_080, 10_010, 10_040, 1];
      const todos = await Promise.all(ids.map((id) => ws.todos.get({ id })));
      assert.deepEqual(
        todos.map((t) => t.id),
        ids,
      );
      assert.equal((await ws.todos.list()).length, 2);
      const e = await rejection(ws.todos.get({ id: 404 }));
      assert.ok(ws.todos.get.isError(e) && e.code === "NOT_FOUND");
      assert.equal(e.data.id, 404);
      const t = await rejection(ws.todos.get({ id: 10_300 }, { timeoutMs: 20 }));
      assert.ok(isAccordError(t) && t.code === "TIMEOUT");
    } finally {
      ws.close();
    }
  });

  it("rejects pending calls with TRANSPORT when the socket drops", async () => {
    const ws = createClient<Procedures>({ url: server.url, procedures, WebSocket, transport: "ws" });
    try {
      const p = ws.todos.get({ id: 10_500 }, { retry: false });
      await server.waitFor(() => server.wsMessages.length > 0);
      server.dropSockets();
      const e = await rejection(p);
      assert.ok(isAccordError(e) && e.code === "TRANSPORT");

      // A query retried by default goes out again on a fresh socket.
      const retried = ws.todos.get({ id: 10_100 });
      await server.waitFor(() => server.wsMessages.length > 1);
      server.dropSockets();
      assert.equal((await retried).id, 10_100);
      assert.equal(server.wsMessages.filter((m) => m["method"] === "todos.get").length, 3);
    } finally {
      ws.close();
    }
  });
});
