// The self-healing WebSocket against the in-test server: lazy connect, connection states,
// reconnect with backoff, resubscribe with resume (every event once, in order), EVENTS_MISSED,
// graceful drain, dead-socket detection by keep-alive, and in-band authentication.
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import WebSocket from "ws";
import { createClient, isAccordError, type Client, type ClientOptions, type ConnectionState, type EventsMissed, type Subscription } from "../src/index.js";
import { procedures, type Procedures, type TodoEvent } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";
import { rejection } from "./support.js";

let server: TestServer;
const clients: Array<Client<Procedures>> = [];
before(async () => (server = await startServer()));
after(() => server.close());
beforeEach(() => {
  server.dropSockets();
  server.failures = {};
  server.wsMessages = [];
  server.upgrades = [];
  server.refuseUpgrades = false;
  server.tokens.clear();
  server.authRequired = false;
  server.retention = 100;
  server.loseEvents();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client with fast keep-alive and backoff, closed after the test; `states` records every change. */
function connect(opts: Partial<ClientOptions<Procedures>> = {}): { client: Client<Procedures>; states: ConnectionState[] } {
  const client = createClient<Procedures>({
    url: server.url,
    procedures,
    WebSocket,
    keepAliveMs: 1000,
    reconnect: { baseDelayMs: 10, maxDelayMs: 50 },
    ...opts,
  });
  clients.push(client);
  const states: ConnectionState[] = [];
  client.$connection.onChange((s) => states.push(s));
  return { client, states };
}

const created = (id: number): TodoEvent => ({ kind: "created", todo: { id, title: `t${id}`, done: false } });

/** Pulls `n` items. */
async function take(sub: Subscription<TodoEvent>, n: number): Promise<TodoEvent[]> {
  const got: TodoEvent[] = [];
  while (got.length < n) {
    const r = await sub.next();
    if (r.done) assert.fail(`the stream ended after ${got.length} of ${n} items`);
    got.push(r.value);
  }
  return got;
}

const subscribes = (): Array<Record<string, unknown>> => server.wsMessages.filter((m) => m["method"] === "todos.changes");

describe("connection state", () => {
  it("connects lazily: closed → connecting → open, and closed after close()", async () => {
    const { client, states } = connect();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(client.$connection.state, "closed");
    assert.equal(server.upgrades.length, 0, "no socket before the first use");
    const sub = client.todos.changes();
    assert.equal(client.$connection.state, "connecting");
    await sub.ready;
    assert.equal(client.$connection.state, "open");
    client.close();
    assert.deepEqual(states, ["connecting", "open", "closed"]);
    assert.deepEqual(await sub.next().catch((e: unknown) => (isAccordError(e) ? e.code : e)), "TRANSPORT");
  });

  it("onChange returns a function that stops the listener", async () => {
    const { client } = connect();
    const seen: ConnectionState[] = [];
    const stop = client.$connection.onChange((s) => seen.push(s));
    await client.todos.changes().ready;
    stop();
    client.close();
    assert.deepEqual(seen, ["connecting", "open"]);
  });
});

describe("reconnect and resume", () => {
  it("resubscribes after a dropped socket from the last event id: every event once, in order", async () => {
    const { client, states } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    const ids = [server.publish(created(1)), server.publish(created(2))];
    assert.deepEqual(await take(sub, 2), [created(1), created(2)]);
    assert.equal(sub.lastEventId, ids[1]);

    // Down for a while: what is published meanwhile is replayed, then the stream goes on live.
    server.refuseUpgrades = true;
    server.dropSockets();
    await server.waitFor(() => server.upgrades.length >= 2);
    assert.equal(client.$connection.state, "reconnecting");
    server.publish(created(3));
    server.publish(created(4));
    server.refuseUpgrades = false;
    await server.waitFor(() => server.subs.length === 1);
    const last = server.publish(created(5));

    assert.deepEqual(await take(sub, 3), [created(3), created(4), created(5)]);
    assert.equal(sub.lastEventId, last);
    const sent = subscribes();
    assert.equal(sent.length, 2);
    assert.equal(sent[0]?.["meta"], undefined, "the first subscribe resumes from nothing");
    assert.deepEqual(sent[1]?.["meta"], { lastEventId: ids[1] });
    assert.deepEqual(states.slice(0, 3), ["connecting", "open", "reconnecting"]);
    assert.equal(states.at(-1), "open");
    assert.ok(!states.includes("closed"));

    // Nothing more arrives: no duplicate was queued.
    server.subs[0]?.end(null);
    assert.deepEqual(await sub.next(), { done: true, value: undefined });
  });

  it("resumes after the last item received, even when it was not pulled yet", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    const ids = [1, 2, 3].map((i) => server.publish(created(i)));
    await server.waitFor(() => sub.lastEventId === ids[2]);
    server.dropSockets();
    server.publish(created(4));
    await server.waitFor(() => server.subs.length === 1);
    server.publish(created(5));
    assert.deepEqual(await take(sub, 5), [1, 2, 3, 4, 5].map(created));
    assert.deepEqual(subscribes()[1]?.["meta"], { lastEventId: ids[2] });
  });

  it("a subscription opened with lastEventId starts after it", async () => {
    const { client } = connect();
    const first = server.publish(created(1));
    server.publish(created(2));
    server.publish(created(3));
    const sub = client.todos.changes(undefined, { lastEventId: first });
    assert.deepEqual(await take(sub, 2), [created(2), created(3)]);
    assert.deepEqual(subscribes()[0]?.["meta"], { lastEventId: first });
  });

  it("keeps trying while the server is down, with backoff growing to its cap", async () => {
    const random = Math.random;
    Math.random = () => 0.999; // the longest delay of each attempt: the bounds themselves
    try {
      const { client } = connect({ reconnect: { baseDelayMs: 20, maxDelayMs: 100 } });
      const sub = client.todos.changes();
      await sub.ready;
      server.refuseUpgrades = true;
      server.dropSockets();
      await server.waitFor(() => server.upgrades.length >= 7, 5000);
      server.refuseUpgrades = false;
      await server.waitFor(() => server.subs.length === 1);
      const at = server.upgrades.map((u) => u.at);
      const gaps = at.slice(2, 7).map((t, i) => t - (at[i + 1] ?? 0));
      // Bounds 20, 40, 80, 100, 100 (the cap) after the first failure at once.
      const bounds = [40, 80, 100, 100, 100];
      for (const [i, gap] of gaps.entries()) {
        assert.ok(gap >= (bounds[i] ?? 0) - 5, `gap ${i}: ${gap} ms, expected about ${bounds[i]}: ${gaps.join(", ")}`);
        assert.ok(gap < (bounds[i] ?? 0) + 150, `gap ${i}: ${gap} ms is past the cap: ${gaps.join(", ")}`);
      }
      server.publish(created(1));
      assert.deepEqual(await take(sub, 1), [created(1)]);
    } finally {
      Math.random = random;
    }
  });

  it("a subscribe made while the server is down is sent once it is back; its timeoutMs still bounds it", async () => {
    const { client, states } = connect();
    server.refuseUpgrades = true;
    const bounded = client.todos.changes(undefined, { timeoutMs: 150 });
    const waiting = client.todos.changes();
    const e = await rejection(bounded.next());
    assert.ok(isAccordError(e) && e.code === "TIMEOUT");
    assert.equal(client.$connection.state, "reconnecting");
    server.refuseUpgrades = false;
    await waiting.ready;
    assert.equal(subscribes().length, 1, "the timed-out one was never sent");
    assert.deepEqual(states.slice(0, 2), ["connecting", "reconnecting"]);
  });

  it("an unsubscribe while reconnecting is not resubscribed", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    const other = client.todos.changes();
    await Promise.all([sub.ready, other.ready]);
    server.refuseUpgrades = true;
    server.dropSockets();
    await server.waitFor(() => server.upgrades.length >= 2);
    await sub.unsubscribe();
    server.refuseUpgrades = false;
    await server.waitFor(() => server.subs.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(subscribes().length, 3, "two first subscribes, one resubscribe");
    assert.equal(server.subs.length, 1);
  });

  it("close() while reconnecting ends the subscriptions with TRANSPORT and stops trying", async () => {
    const { client, states } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    server.refuseUpgrades = true;
    server.dropSockets();
    await server.waitFor(() => server.upgrades.length >= 2);
    client.close();
    const e = await rejection(sub.next());
    assert.ok(isAccordError(e) && e.code === "TRANSPORT");
    const tries = server.upgrades.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.upgrades.length, tries);
    assert.equal(states.at(-1), "closed");
  });
});

describe("EVENTS_MISSED", () => {
  /** Runs the stream into one log of items and gaps, in the order the consumer sees them. */
  function record(sub: Subscription<TodoEvent>, log: Array<TodoEvent | string>): Promise<void> {
    sub.onEventsMissed((gap) => log.push(`missed:${gap.data.reason}`));
    return (async () => {
      for await (const ev of sub) log.push(ev);
    })();
  }

  it("is signalled when the server restarted without the events (unknown id); the loop goes on", async () => {
    const { client } = connect();
    const gaps: EventsMissed[] = [];
    const sub = client.todos.changes(undefined, { onEventsMissed: (gap) => gaps.push(gap) });
    await sub.ready;
    const seen = server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    server.dropSockets();
    server.loseEvents();
    await server.waitFor(() => server.subs.length === 1);
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
    assert.equal(gaps.length, 1);
    const [gap] = gaps;
    assert.ok(gap && isAccordError(gap) && client.todos.changes.method === gap.method);
    assert.equal(gap.code, "EVENTS_MISSED");
    assert.equal(gap.rpcCode, -32052);
    assert.deepEqual({ reason: gap.data.reason, lastEventId: gap.data.lastEventId }, { reason: "unknown", lastEventId: seen });
  });

  it("is signalled when the id is older than the retention (expired)", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    const log: Array<TodoEvent | string> = [];
    const done = record(sub, log);
    await sub.ready;
    server.retention = 2;
    server.publish(created(1));
    await server.waitFor(() => log.length === 1);
    server.refuseUpgrades = true;
    server.dropSockets();
    for (let i = 2; i <= 5; i++) server.publish(created(i));
    server.refuseUpgrades = false;
    await server.waitFor(() => server.subs.length === 1);
    server.publish(created(6));
    await server.waitFor(() => log.length === 3);
    assert.deepEqual(log, [created(1), "missed:expired", created(6)]);
    server.subs[0]?.end(null);
    await done;
  });

  it("is signalled by the client (unknown, no lastEventId) when a resubscribed stream had no event id yet", async () => {
    const { client } = connect();
    const gaps: EventsMissed[] = [];
    const sub = client.todos.changes(undefined, { onEventsMissed: (gap) => gaps.push(gap) });
    const log: Array<TodoEvent | string> = [];
    const done = record(sub, log);
    await sub.ready;
    server.dropSockets();
    await server.waitFor(() => server.subs.length === 1);
    server.publish(created(1));
    await server.waitFor(() => log.length === 2);
    assert.deepEqual(log, ["missed:unknown", created(1)]);
    assert.deepEqual(gaps[0]?.data, { code: "EVENTS_MISSED", reason: "unknown" });
    assert.equal(gaps[0]?.rpcCode, -32052);
    assert.equal(subscribes()[1]?.["meta"], undefined);
    server.subs[0]?.end(null);
    await done;
  });

  it("comes in stream order: after the items received before the gap", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    server.publish(created(1));
    const second = server.publish(created(2));
    await server.waitFor(() => sub.lastEventId === second);
    server.dropSockets();
    server.loseEvents();
    await server.waitFor(() => server.subs.length === 1);
    const third = server.publish(created(3));
    await server.waitFor(() => sub.lastEventId === third);
    // Everything is buffered now; pulling replays it with the gap in its place.
    const log: Array<TodoEvent | string> = [];
    sub.onEventsMissed((gap) => log.push(`missed:${gap.data.reason}`));
    for (let i = 0; i < 3; i++) log.push(...(await take(sub, 1)));
    assert.deepEqual(log, [created(1), created(2), "missed:unknown", created(3)]);
  });
});

describe("graceful drain", () => {
  it("UNAVAILABLE and close 1001 make a reconnect, not an error; calls in flight finish", async () => {
    const { client, states } = connect({ transport: "ws" });
    const sub = client.todos.changes();
    await sub.ready;
    server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    const slow = client.todos.get({ id: 10_150 }, { retry: false });
    await server.waitFor(() => server.conns[0]?.running === 1);
    const drained = server.drain(); // refuses new connections until done, like a restarting server
    await drained;
    await server.waitFor(() => server.subs.length === 1);
    assert.equal((await slow).id, 10_150, "the call in flight finished on the draining socket");
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
    assert.ok(states.includes("reconnecting"));
    assert.equal(states.at(-1), "open");
  });

  it("a bare close 1001 (an idle timeout, a proxy going away) is a reconnect too", async () => {
    const { client, states } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    const first = server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    server.conns[0]?.socket.close(1001, "going away");
    await server.waitFor(() => server.subs.length === 1 && server.upgrades.length === 2);
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
    assert.deepEqual(subscribes()[1]?.["meta"], { lastEventId: first });
    assert.ok(states.includes("reconnecting"));
  });

  it("moves subscriptions to a new connection at once when another instance takes them", async () => {
    const { client } = connect({ transport: "ws" });
    const sub = client.todos.changes();
    await sub.ready;
    server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    const slow = client.todos.get({ id: 10_300 }, { retry: false });
    await server.waitFor(() => server.conns[0]?.running === 1);
    const old = server.conns[0];
    const drained = server.drain({ otherInstance: true });
    // Resubscribed on a second connection while the first still finishes its call.
    await server.waitFor(() => server.subs.length === 1 && server.subs[0]?.socket !== old?.socket);
    assert.ok(old && server.conns.includes(old));
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
    // New calls go to the new connection.
    assert.equal((await client.todos.get({ id: 7 })).id, 7);
    assert.equal(old.messages.filter((m) => m["method"] === "todos.get").length, 1);
    assert.equal((await slow).id, 10_300);
    await drained;
    assert.equal(server.conns.length, 1);
  });
});

describe("try-again ends", () => {
  it("a live stream cut short by a try-again error (not a drain) is resubscribed on the same socket after retryAfterMs", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    const other = client.todos.changes();
    await Promise.all([sub.ready, other.ready]);
    const first = server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    assert.deepEqual(await take(other, 1), [created(1)]);
    const cut = server.subs[0];
    server.subs = server.subs.filter((s) => s !== cut);
    cut?.end({ code: -32050, message: "shedding load", data: { code: "OVERLOADED", retryAfterMs: 50 } });
    server.publish(created(2)); // only `other` gets it live; `sub` gets it replayed
    await server.waitFor(() => server.subs.length === 2);
    server.publish(created(3));
    assert.deepEqual(await take(sub, 2), [created(2), created(3)]);
    assert.deepEqual(await take(other, 2), [created(2), created(3)]);
    assert.equal(server.upgrades.length, 1, "the socket stayed");
    assert.deepEqual(subscribes()[2]?.["meta"], { lastEventId: first });
  });

  it("a resubscribe refused with a try-again error is tried again", async () => {
    const { client } = connect();
    const sub = client.todos.changes();
    await sub.ready;
    server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    server.failures["todos.changes"] = 3;
    server.dropSockets();
    await server.waitFor(() => server.subs.length === 1);
    assert.equal(subscribes().length, 5, "the first subscribe, three refusals, the one accepted");
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
  });

  it("a first subscribe refused so is the caller's to handle", async () => {
    const { client } = connect();
    server.failures["todos.changes"] = 1;
    const e = await rejection(client.todos.changes().next());
    assert.ok(client.todos.changes.isError(e) && e.code === "UNAVAILABLE");
    assert.equal(subscribes().length, 1);
  });
});

describe("dead sockets", () => {
  it("are found within two keep-alive intervals; calls in flight fail with TRANSPORT, and retries go to the new socket", async () => {
    const keepAliveMs = 200;
    const { client, states } = connect({ keepAliveMs, transport: "ws" });
    const sub = client.todos.changes();
    await sub.ready;
    server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    server.freeze();
    const frozeAt = Date.now();
    const once = client.todos.get({ id: 1 }, { retry: false });
    const retried = client.todos.get({ id: 2 }, { retry: { baseDelayMs: 1 } });
    const lost = new Promise<number>((resolve) => client.$connection.onChange((s) => s === "reconnecting" && resolve(Date.now())));
    const e = await rejection(once);
    assert.ok(isAccordError(e) && e.code === "TRANSPORT");
    assert.match(e.message, /keep-alive/);
    const detectedIn = (await lost) - frozeAt;
    assert.ok(detectedIn <= 2 * keepAliveMs + 150, `detected after ${detectedIn} ms`);
    assert.equal((await retried).id, 2);
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)], "resumed on the new socket");
    assert.deepEqual(states.slice(0, 4), ["connecting", "open", "reconnecting", "open"]);
  });

  it("an answering server is never taken for dead: pings keep an idle socket open", async () => {
    const { client, states } = connect({ keepAliveMs: 40 });
    const sub = client.todos.changes();
    await sub.ready;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(server.wsMessages.filter((m) => m["method"] === "rpc.ping").length >= 5);
    assert.deepEqual(states, ["connecting", "open"]);
    assert.equal(server.upgrades.length, 1);
  });

  it("keepAliveMs: false sends no pings", async () => {
    const { client } = connect({ keepAliveMs: false });
    await client.todos.changes().ready;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(server.wsMessages.filter((m) => m["method"] === "rpc.ping").length, 0);
  });

  it("a handshake that never completes is given up after two intervals too", async () => {
    // A TCP listener that accepts and never answers the upgrade.
    const net = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const silent = net.createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as import("node:net").AddressInfo).port;
    try {
      const { client } = connect({ url: `http://127.0.0.1:${port}/rpc`, keepAliveMs: 100, transport: "ws" });
      const e = await rejection(client.todos.get({ id: 1 }, { retry: false }));
      assert.ok(isAccordError(e) && e.code === "TRANSPORT");
      assert.match(e.message, /keep-alive/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe("in-band authentication", () => {
  it("sends the credentials first on every connection, never in the URL", async () => {
    server.tokens.add("Bearer one").add("Bearer two");
    server.authRequired = true;
    let token = "one";
    const { client } = connect({ authenticate: async () => `Bearer ${token}` });
    const sub = client.todos.changes();
    await sub.ready;
    assert.deepEqual(server.conns[0]?.messages[0], { jsonrpc: "2.0", id: server.conns[0]?.messages[0]?.["id"] ?? null, method: "rpc.authenticate", params: { authorization: "Bearer one" } });
    assert.equal(server.conns[0]?.subject, "one");

    token = "two";
    server.publish(created(1));
    assert.deepEqual(await take(sub, 1), [created(1)]);
    server.dropSockets();
    await server.waitFor(() => server.subs.length === 1);
    assert.equal(server.conns[0]?.messages[0]?.["method"], "rpc.authenticate");
    assert.equal(server.conns[0]?.subject, "two");
    assert.equal(server.conns[0]?.messages[1]?.["method"], "todos.changes");
    server.publish(created(2));
    assert.deepEqual(await take(sub, 1), [created(2)]);
    for (const u of server.upgrades) assert.equal(u.url, "/rpc", "no credentials in the URL");
  });

  it("refreshes credentials on the live connection; a refusal answers UNAUTHENTICATED until a good one", async () => {
    server.tokens.add("Bearer one").add("Bearer two");
    server.authRequired = true;
    let token = "one";
    const { client } = connect({ authenticate: () => `Bearer ${token}`, transport: "ws" });
    assert.equal(await client.$connection.reauthenticate(), undefined, "no connection: nothing to refresh");
    assert.equal((await client.todos.get({ id: 1 })).id, 1);
    token = "two";
    assert.deepEqual(await client.$connection.reauthenticate(), { subject: "two" });
    assert.equal(server.conns[0]?.subject, "two");
    assert.equal(server.upgrades.length, 1, "on the same connection");

    token = "revoked";
    const e = await rejection(client.$connection.reauthenticate());
    assert.ok(isAccordError(e) && e.code === "UNAUTHENTICATED");
    const refused = await rejection(client.todos.get({ id: 2 }));
    assert.ok(client.todos.get.isError(refused) && refused.code === "UNAUTHENTICATED");
    token = "one";
    await client.$connection.reauthenticate();
    assert.equal((await client.todos.get({ id: 3 })).id, 3);
  });

  it("credentials refused on reconnect end the subscription with UNAUTHENTICATED", async () => {
    server.tokens.add("Bearer one");
    server.authRequired = true;
    const { client } = connect({ authenticate: () => "Bearer one" });
    const sub = client.todos.changes();
    await sub.ready;
    server.tokens.clear(); // revoked while away
    server.dropSockets();
    const e = await rejection(sub.next());
    assert.ok(client.todos.changes.isError(e) && e.code === "UNAUTHENTICATED");
  });

  it("a failing authenticate hook fails that connection attempt, and the next one tries again", async () => {
    server.tokens.add("Bearer one");
    server.authRequired = true;
    let calls = 0;
    const { client } = connect({
      authenticate: () => {
        calls += 1;
        if (calls === 1) throw new Error("token endpoint down");
        return "Bearer one";
      },
    });
    const sub = client.todos.changes();
    await sub.ready;
    assert.equal(calls, 2);
    assert.equal(server.upgrades.length, 2);
  });
});
