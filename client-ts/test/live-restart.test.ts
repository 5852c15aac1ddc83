// Against real todos-server processes that this file starts and restarts itself: a live
// subscription outlives its server. The binary is ACCORD_TODOS_BIN (default
// ../target/debug/todos-server: `cargo build -p todos-server`); skipped without it unless
// ACCORD_REQUIRE_LIVE=1. The Redis test also needs REDIS_URL.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { createClient, type Client, type ConnectionState, type EventsMissed, type Subscription } from "../src/index.js";

type Todo = { id: number; title: string; done: boolean };
type TodoEvent = { type: "created" | "updated"; todo: Todo } | { type: "deleted"; id: number };
type Procedures = {
  todos: {
    create: { kind: "mutation"; input: { title: string }; output: Todo; error: { code: "TITLE_TAKEN"; title: string } };
    changes: { kind: "subscription"; tracked: true; input: void; output: TodoEvent; error: never };
  };
};
const procedures = { todos: { create: "mutation", changes: "subscription" } } as const;

const bin = process.env["ACCORD_TODOS_BIN"] ?? path.resolve("../target/debug/todos-server");
const missing = existsSync(bin) ? null : `no todos-server at ${bin} (cargo build -p todos-server, or set ACCORD_TODOS_BIN)`;
if (missing !== null && process.env["ACCORD_REQUIRE_LIVE"] === "1") throw new Error(missing);
const skip = missing ?? false;
const redisUrl = process.env["REDIS_URL"];
if (missing) console.log(`skipped: ${missing}`);
else if (!redisUrl) console.log("skipped the Redis test: REDIS_URL not set");

type Running = { url: string; port: number; stop(): Promise<void> };

/** Starts todos-server on `port` (0: a free one) and waits until it listens. */
async function start(env: Record<string, string>, port = 0): Promise<Running> {
  const child = spawn(bin, [], { env: { ...process.env, REDIS_URL: "", ...env, PORT: String(port), RUST_LOG: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`todos-server did not start:\n${lines.join("")}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/rpc/.exec(line);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`todos-server exited:\n${lines.join("")}`)));
  });
  return {
    url: `http://127.0.0.1:${bound}/rpc`,
    port: bound,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM"); // a graceful drain
      await exited;
    },
  };
}

function connect(url: string): { client: Client<Procedures>; states: ConnectionState[] } {
  const client = createClient<Procedures>({ url, procedures, WebSocket, timeoutMs: 5000, reconnect: { baseDelayMs: 50, maxDelayMs: 500 } });
  const states: ConnectionState[] = [];
  client.$connection.onChange((s) => states.push(s));
  return { client, states };
}

/** The titles of the next `n` created todos whose titles start with `prefix` (other runs may share the topic). */
async function created(sub: Subscription<TodoEvent>, prefix: string, n: number): Promise<string[]> {
  const titles: string[] = [];
  while (titles.length < n) {
    const r = await sub.next();
    if (r.done) assert.fail(`the stream ended after ${titles.join(", ")}`);
    if (r.value.type === "created" && r.value.todo.title.startsWith(prefix)) titles.push(r.value.todo.title);
  }
  return titles;
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a live subscription across todos-server restarts", { skip, timeout: 60_000 }, () => {
  it("in process: the restart is a reconnect; the lost events are reported as EVENTS_MISSED and the stream goes on", async () => {
    let server = await start({});
    const { client, states } = connect(server.url);
    try {
      const gaps: EventsMissed[] = [];
      const sub = client.todos.changes(undefined, { onEventsMissed: (gap) => gaps.push(gap) });
      await sub.ready;
      const prefix = `inproc-${Date.now()}-`;
      await client.todos.create({ title: `${prefix}1` });
      assert.deepEqual(await created(sub, prefix, 1), [`${prefix}1`]);
      const seen = sub.lastEventId;
      assert.equal(typeof seen, "string", "todos.changes is tracked: its items carry event ids");

      await server.stop();
      await until("the client says it is reconnecting", () => client.$connection.state === "reconnecting");
      server = await start({}, server.port);
      await until("the client is connected again", () => client.$connection.state === "open");
      await client.todos.create({ title: `${prefix}2` });
      assert.deepEqual(await created(sub, prefix, 1), [`${prefix}2`]);

      assert.equal(gaps.length, 1);
      assert.equal(gaps[0]?.code, "EVENTS_MISSED");
      assert.equal(gaps[0]?.data.reason, "unknown", "a new process does not know the old one's ids");
      assert.equal(gaps[0]?.data.lastEventId, seen);
      assert.deepEqual(states.slice(0, 3), ["connecting", "open", "reconnecting"]);
      assert.equal(states.at(-1), "open");
    } finally {
      client.close();
      await server.stop();
    }
  });

  it("with Redis: a subscriber whose instance restarts resumes with every event made meanwhile through another, once and in order", { skip: redisUrl ? false : "REDIS_URL not set" }, async () => {
    const env = { REDIS_URL: redisUrl ?? "" };
    let a = await start(env);
    const b = await start(env);
    const { client } = connect(a.url);
    const elsewhere = createClient<Procedures>({ url: b.url, procedures, timeoutMs: 5000 });
    try {
      const gaps: EventsMissed[] = [];
      const sub = client.todos.changes(undefined, { onEventsMissed: (gap) => gaps.push(gap) });
      await sub.ready;
      const prefix = `redis-${Date.now()}-`;
      const title = (i: number): string => `${prefix}${i}`;
      for (let i = 1; i <= 3; i++) await elsewhere.todos.create({ title: title(i) });
      assert.deepEqual(await created(sub, prefix, 3), [1, 2, 3].map(title), "B's changes reach A's subscriber");

      await a.stop();
      await until("the client says it is reconnecting", () => client.$connection.state === "reconnecting");
      for (let i = 4; i <= 8; i++) await elsewhere.todos.create({ title: title(i) });
      a = await start(env, a.port);
      await until("the client is connected again", () => client.$connection.state === "open");
      await elsewhere.todos.create({ title: title(9) });

      assert.deepEqual(await created(sub, prefix, 6), [4, 5, 6, 7, 8, 9].map(title), "replayed once each, in order, then live");
      assert.deepEqual(gaps, [], "nothing was missed");
    } finally {
      client.close();
      await a.stop();
      await b.stop();
    }
  });

  it("the server answers rpc.ping: an idle socket with a short keep-alive stays open", async () => {
    const server = await start({});
    const client = createClient<Procedures>({ url: server.url, procedures, WebSocket, keepAliveMs: 50 });
    const states: ConnectionState[] = [];
    client.$connection.onChange((s) => states.push(s));
    try {
      await client.todos.changes().ready;
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(states, ["connecting", "open"]);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
