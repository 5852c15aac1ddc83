// Two todos-server instances sharing Redis, behind a real nginx run from docs/nginx.conf: live
// data across instances, a rolling restart, and a killed instance. Needs the todos-server binary
// (ACCORD_TODOS_BIN), nginx (skipped without it unless ACCORD_REQUIRE_NGINX=1) and REDIS_URL
// (skipped without it). Prints the figures recorded in BENCHMARKS.md ("Live data across a
// restart", multi-instance); ACCORD_ROLLING_ROUNDS=n repeats the rolling restart n times, and
// ACCORD_NGINX_LOG=1 prints nginx's error log at the end.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { createClient, type Client, type EventsMissed } from "../src/index.js";
import { findNginx, Instance, Nginx, nginxFailTimeoutMs, todosBin } from "./instances.js";

type Todo = { id: number; title: string; done: boolean };
type TodoEvent = { type: "created" | "updated"; todo: Todo } | { type: "deleted"; id: number };
type Stats = { total: number; done: number };
type Procedures = {
  todos: {
    create: { kind: "mutation"; input: { title: string }; output: Todo; error: { code: "TITLE_TAKEN"; title: string } };
    stats: { kind: "query"; input: void; output: Stats; error: never };
    changes: { kind: "subscription"; tracked: true; input: void; output: TodoEvent; error: never };
  };
};
const procedures = { todos: { create: "mutation", stats: "query", changes: "subscription" } } as const;

const nginx = findNginx();
const redisUrl = process.env["REDIS_URL"];
const why = !existsSync(todosBin)
  ? `no todos-server at ${todosBin} (cargo build -p todos-server, or set ACCORD_TODOS_BIN)`
  : "missing" in nginx
    ? nginx.missing
    : !redisUrl
      ? "REDIS_URL not set (the instances share live data through Redis)"
      : null;
if (why !== null && "missing" in nginx && process.env["ACCORD_REQUIRE_NGINX"] === "1") throw new Error(why);
if (why !== null) console.log(`skipped the nginx tests: ${why}`);
const rounds = Math.max(1, Number(process.env["ACCORD_ROLLING_ROUNDS"] ?? "1"));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(20);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** A subscriber through nginx: the sequence numbers of the `prefix`ed todos it saw, and its reconnections. */
class Watcher {
  readonly seqs: number[] = [];
  readonly gaps: EventsMissed[] = [];
  readonly reconnects: number[] = [];
  private lostAt = 0;
  private readonly client: Client<Procedures>;

  constructor(url: string, private readonly prefix: string, baseDelayMs = 50) {
    this.client = createClient<Procedures>({ url, procedures, WebSocket, timeoutMs: 5000, reconnect: { baseDelayMs, maxDelayMs: 500 } });
    this.client.$connection.onChange((state) => {
      if (state === "reconnecting") this.lostAt = performance.now();
      if (state === "open" && this.lostAt > 0) {
        this.reconnects.push(performance.now() - this.lostAt);
        this.lostAt = 0;
      }
    });
  }

  get state(): string {
    return this.client.$connection.state;
  }

  /** Subscribes and collects in the background; resolves once the subscription is live. */
  async watch(): Promise<void> {
    const sub = this.client.todos.changes(undefined, { onEventsMissed: (gap) => this.gaps.push(gap) });
    await sub.ready;
    void (async () => {
      for await (const event of sub) {
        if (event.type === "created" && event.todo.title.startsWith(this.prefix)) this.seqs.push(Number(event.todo.title.slice(this.prefix.length)));
      }
    })().catch(() => {});
  }

  close(): void {
    this.client.close();
  }
}

/** Creates `prefix`1, `prefix`2, ... through nginx. A failed create is never retried under the same number. */
class Publisher {
  readonly confirmed = new Set<number>();
  readonly failed = new Set<number>();
  next = 1;
  private client: Client<Procedures>;

  constructor(url: string, private readonly prefix: string) {
    this.client = createClient<Procedures>({ url, procedures, timeoutMs: 5000 });
  }

  async publish(): Promise<void> {
    const seq = this.next++;
    try {
      await this.client.todos.create({ title: `${this.prefix}${seq}` });
      this.confirmed.add(seq);
    } catch {
      // Maybe made, maybe not (the instance may have died after it): subscribers may see it or not.
      this.failed.add(seq);
    }
  }
}

/** Every subscriber saw every confirmed event once, in order, and nothing that was never published. */
function assertDelivered(watchers: Watcher[], publisher: Publisher): void {
  for (const [i, w] of watchers.entries()) {
    for (let k = 1; k < w.seqs.length; k++) {
      assert.ok((w.seqs[k] ?? 0) > (w.seqs[k - 1] ?? 0), `subscriber ${i}: ${w.seqs[k]} after ${w.seqs[k - 1]} (a duplicate or out of order)`);
    }
    const seen = new Set(w.seqs);
    const lost = [...publisher.confirmed].filter((s) => !seen.has(s));
    assert.deepEqual(lost, [], `subscriber ${i} never got these confirmed events`);
    const invented = w.seqs.filter((s) => !publisher.confirmed.has(s) && !publisher.failed.has(s));
    assert.deepEqual(invented, [], `subscriber ${i} got events nobody published`);
    assert.deepEqual(w.gaps, [], `subscriber ${i} was told it missed events`);
  }
}

async function delivered(watchers: Watcher[], publisher: Publisher): Promise<void> {
  const last = Math.max(...publisher.confirmed);
  await until("every subscriber has the last confirmed event", () => watchers.every((w) => w.seqs.includes(last)));
}

function figures(label: string, watchers: Watcher[], publisher: Publisher, extra: Record<string, number>): void {
  const reconnects = watchers.flatMap((w) => w.reconnects);
  const delivered = watchers.reduce((n, w) => n + w.seqs.length, 0);
  const duplicates = watchers.reduce((n, w) => n + w.seqs.length - new Set(w.seqs).size, 0);
  const row = {
    ...extra,
    published: publisher.confirmed.size,
    publishFailed: publisher.failed.size,
    subscribers: watchers.length,
    delivered,
    duplicates,
    reconnects: reconnects.length,
    reconnectMedianMs: Math.round(median(reconnects)),
    reconnectMaxMs: Math.round(Math.max(0, ...reconnects)),
  };
  console.log(`figures ${label}: ${JSON.stringify(row)}`);
}

describe("two todos-server instances behind nginx (docs/nginx.conf)", { skip: why ?? false, timeout: 180_000 }, () => {
  const env = { REDIS_URL: redisUrl ?? "" };
  const a = new Instance(env);
  const b = new Instance(env);
  let proxy: Nginx;

  before(async () => {
    await a.start();
    await b.start();
    proxy = await Nginx.start("bin" in nginx ? nginx.bin : "", [a.port, b.port]);
  });
  after(async () => {
    if (process.env["ACCORD_NGINX_LOG"]) console.log(proxy?.errors());
    await proxy?.stop();
    await a.stop();
    await b.stop();
  });

  it("a subscriber through nginx sees the changes made on either instance", async () => {
    const prefix = `nginx-across-${Date.now()}-`;
    const watcher = new Watcher(proxy.url, prefix);
    try {
      await watcher.watch();
      const direct = [a, b].map((i) => new Publisher(i.url, prefix));
      for (let round = 0; round < 3; round++) {
        for (const p of direct) {
          p.next = round * 2 + direct.indexOf(p) + 1;
          await p.publish();
        }
      }
      await until("both instances' changes arrived", () => watcher.seqs.length >= 6);
      // Whichever instance nginx gave the subscriber, half of these came from the other one.
      assert.deepEqual(watcher.seqs, [1, 2, 3, 4, 5, 6]);
    } finally {
      watcher.close();
    }
  });

  it("a rolling restart (SIGTERM A, restart, then B) fails no call and loses or repeats no event", async () => {
    const prefix = `nginx-rolling-${Date.now()}-`;
    const watchers = Array.from({ length: 5 }, () => new Watcher(proxy.url, prefix));
    const publisher = new Publisher(proxy.url, prefix);
    const caller = createClient<Procedures>({ url: proxy.url, procedures, timeoutMs: 5000 });
    let [calls, failed, running] = [0, 0, true];
    const errors: unknown[] = [];
    try {
      await Promise.all(watchers.map((w) => w.watch()));
      const calling = (async () => {
        while (running) {
          calls++;
          await caller.todos.stats().catch((e: unknown) => {
            failed++;
            errors.push(e);
          });
          await sleep(15);
        }
      })();
      const publishing = (async () => {
        while (running) {
          await publisher.publish();
          await sleep(20);
        }
      })();
      await sleep(500);
      for (let round = 0; round < rounds; round++) {
        for (const instance of [a, b]) {
          await instance.stop("SIGTERM");
          await instance.start();
          // As an orchestrator would: until nginx takes the restarted instance back (docs/deployment.md).
          await sleep(nginxFailTimeoutMs() + 300);
        }
      }
      running = false;
      await Promise.all([calling, publishing]);
      await delivered(watchers, publisher);

      assert.deepEqual(errors, [], `${failed} of ${calls} calls failed`);
      assert.ok(publisher.confirmed.size > 50, `the publisher kept publishing (${publisher.confirmed.size})`);
      assertDelivered(watchers, publisher);
      assert.ok(watchers.every((w) => w.reconnects.length >= 1), "every subscriber was moved at least once");
      figures(`rolling restart x${rounds}`, watchers, publisher, { calls, callsFailed: failed });
    } finally {
      running = false;
      for (const w of watchers) w.close();
    }
  });

  it("SIGKILL: the killed instance's subscribers resume on the other with what was published meanwhile", async () => {
    const prefix = `nginx-kill-${Date.now()}-`;
    // A longer first backoff, so that events are surely published while they are away.
    const watchers = Array.from({ length: 4 }, () => new Watcher(proxy.url, prefix, 300));
    const publisher = new Publisher(proxy.url, prefix);
    try {
      await Promise.all(watchers.map((w) => w.watch()));
      for (let i = 0; i < 5; i++) await publisher.publish();
      await a.stop("SIGKILL");
      await until("A's subscribers noticed", () => watchers.some((w) => w.state === "reconnecting"), 5000);
      const away = watchers.filter((w) => w.state === "reconnecting");
      const sentWhileAway: number[] = [];
      for (let i = 0; i < 10; i++) {
        await publisher.publish();
        if (away.some((w) => w.state === "reconnecting")) sentWhileAway.push(publisher.next - 1);
      }
      await until("they are back", () => watchers.every((w) => w.state === "open"));
      for (let i = 0; i < 5; i++) await publisher.publish();
      await delivered(watchers, publisher);

      assert.ok(away.length >= 1 && away.length < watchers.length, `nginx spread the subscribers over both (${away.length} on A)`);
      assert.ok(sentWhileAway.length > 0, "events were published while A's subscribers were away");
      assert.equal(publisher.failed.size, 0, "nginx sent every create to the live instance");
      assertDelivered(watchers, publisher);
      figures("SIGKILL", watchers, publisher, { away: away.length, publishedWhileAway: sentWhileAway.length });
    } finally {
      for (const w of watchers) w.close();
      await a.start();
    }
  });
});
