// An in-test Accord-like JSON-RPC server (node:http + ws) speaking docs/wire.md for the todos fixture,
// with hooks to misbehave on purpose. Its `todos.changes` topic is tracked like the real server's
// (event ids, `meta.lastEventId` replay, the `EVENTS_MISSED` marker), it answers `rpc.ping` and
// `rpc.authenticate`, and it can drain (UNAVAILABLE, then close 1001), restart, or play dead.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { FrameworkErrorData } from "../src/index.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Reply = { result: Json } | { error: { code: number; message: string; data: Json } };

export interface ServerSub {
  id: string;
  method: string;
  socket: WebSocket;
  /** The `meta.lastEventId` it was opened with. */
  lastEventId: string | undefined;
  /** Sends an item (with `eventId` when given), outside the topic. */
  send(item: Json, eventId?: string): void;
  end(error: Json): void;
}

/** One WebSocket connection as the server sees it. */
export interface ServerConn {
  socket: WebSocket;
  /** The subject `rpc.authenticate` established; null after a refusal; undefined before any. */
  subject: string | null | undefined;
  /** Calls running (answered later). */
  running: number;
  /** Every message received on it, in order. */
  messages: Array<Record<string, Json>>;
  /** Draining: every new call is refused UNAVAILABLE, and it closes 1001 once `running` is 0. */
  draining: boolean;
}

export interface TestServer {
  url: string;
  /** Every HTTP request: one call's object, or a batch's array. */
  httpRequests: Array<{ headers: IncomingHttpHeaders; body: Json }>;
  wsMessages: Array<Record<string, Json>>;
  subs: ServerSub[];
  /** Calls of a method answered UNAVAILABLE (retryAfterMs 5) before it works again, counting down. */
  failures: Record<string, number>;
  /** Return true when the request was answered here instead of by the normal handler. */
  httpOverride: ((body: string, res: ServerResponse) => boolean) | undefined;
  /** Notifications to push before the subscribe reply (the race the client must survive). */
  itemsBeforeAccept: Json[];
  /** When set, subscribe requests are refused with this error data. */
  refuseSubscribe: { [k: string]: Json } | undefined;
  /** Open connections. */
  conns: ServerConn[];
  /** Upgrades refused with 503 while true (a server that is down). */
  refuseUpgrades: boolean;
  /** Every upgrade request's URL (refused ones too), in order, with when it came (ms). */
  upgrades: Array<{ url: string; at: number }>;
  /** `rpc.authenticate` accepts these `authorization` values (subject: the value without "Bearer "). */
  tokens: Set<string>;
  /** Every call but `rpc.*` answers UNAUTHENTICATED on a connection without a subject. */
  authRequired: boolean;
  /** The `todos.changes` topic's retained events (the oldest are dropped past `retention`). */
  events: Array<{ id: string; value: Json }>;
  retention: number;
  /** Appends to the topic and sends to every `todos.changes` subscriber; returns the event id. */
  publish(value: Json): string;
  /** A restart with the in-process backend: the topic's events and epoch are lost. */
  loseEvents(): void;
  /**
   * Graceful shutdown of every open connection: UNAVAILABLE to their subscriptions and new
   * calls, close 1001 once their calls finished. New connections are refused meanwhile unless
   * `otherInstance` (a load balancer sends them to an instance that is not draining).
   */
  drain(opts?: { otherInstance?: boolean }): Promise<void>;
  /** Existing connections stop answering and never close (a dead network path). */
  freeze(): void;
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  dropSockets(): void;
  close(): Promise<void>;
}

const todo = (id: number): Json => ({ id, title: `todo ${id}`, done: false });

function err(code: number, message: string, data: { [k: string]: Json }): Reply {
  return { error: { code, message, data: { ...data, requestId: "srv-req" } } };
}

/** A framework error whose `data` has the generated (Rust-defined) shape. */
function framework(code: number, message: string, data: FrameworkErrorData): Reply {
  return err(code, message, data as { [k: string]: Json });
}

async function handle(method: string, params: Json | undefined): Promise<Reply> {
  const obj = params !== null && typeof params === "object" && !Array.isArray(params) ? params : undefined;
  switch (method) {
    case "todos.get": {
      const id = obj?.["id"];
      if (typeof id !== "number") return framework(-32602, "invalid params", { code: "INVALID_PARAMS", path: "id", reason: "invalid type: string, expected u32" });
      if (id >= 10_000) await new Promise((r) => setTimeout(r, id - 10_000)); // slow on purpose
      if (id === 404) return err(1000, "todo 404 does not exist", { code: "NOT_FOUND", id });
      if (id === 500) return framework(-32603, "internal error", { code: "INTERNAL" });
      if (id === 503) return framework(-32051, "down", { code: "UNAVAILABLE", retryAfterMs: 5 });
      return { result: todo(id) };
    }
    case "todos.list":
      // Void input must arrive without params (wire.md "Params").
      if (params !== undefined) return framework(-32602, "unexpected params", { code: "INVALID_PARAMS", path: "", reason: "this procedure takes no input" });
      return { result: [todo(1), todo(2)] };
    case "todos.create": {
      const title = obj?.["title"];
      if (typeof title !== "string") {
        return framework(-32602, "invalid params", {
          code: "INVALID_PARAMS",
          path: "title",
          reason: "length is lower than 1",
          violations: [{ path: "title", reason: "length is lower than 1" }],
        });
      }
      if (title === "taken") return err(1001, "title taken", { code: "TITLE_TAKEN", title });
      return { result: { id: 3, title, done: false } };
    }
    case "todos.update": {
      const id = obj?.["id"];
      return { result: { id: typeof id === "number" ? id : 0, title: "patched", done: obj?.["done"] === true } };
    }
    default:
      return framework(-32601, "method not found", { code: "METHOD_NOT_FOUND" });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const UNAVAILABLE_DRAIN = { code: -32051, message: "the server is shutting down; reconnect", data: { code: "UNAVAILABLE", retryAfterMs: 0 } };

export async function startServer(): Promise<TestServer> {
  let nextSub = 1;
  let epoch = 1;
  let seq = 0;
  const frozen = new Set<WebSocket>();
  /** Events after `lastEventId`, or why there are none to give. */
  const replay = (lastEventId: string): Array<{ id: string; value: Json }> | "expired" | "unknown" => {
    const [e, n] = lastEventId.split(":").map(Number);
    if (e !== epoch || n === undefined || !Number.isInteger(n) || n > seq) return "unknown";
    const first = Number(server.events[0]?.id.split(":")[1] ?? seq + 1);
    if (n < first - 1) return "expired";
    return server.events.filter((ev) => Number(ev.id.split(":")[1]) > n);
  };
  const server: TestServer = {
    url: "",
    httpRequests: [],
    wsMessages: [],
    subs: [],
    httpOverride: undefined,
    failures: {},
    itemsBeforeAccept: [],
    refuseSubscribe: undefined,
    conns: [],
    refuseUpgrades: false,
    upgrades: [],
    tokens: new Set(),
    authRequired: false,
    events: [],
    retention: 100,
    publish(value) {
      const id = `${epoch}:${++seq}`;
      server.events.push({ id, value });
      if (server.events.length > server.retention) server.events.shift();
      for (const sub of server.subs) if (sub.method === "todos.changes") sub.send(value, id);
      return id;
    },
    loseEvents() {
      epoch += 1;
      seq = 0;
      server.events = [];
    },
    async drain(opts = {}) {
      const refusing = server.refuseUpgrades;
      server.refuseUpgrades = !opts.otherInstance;
      const draining = [...server.conns];
      for (const c of draining) c.draining = true;
      for (const sub of server.subs.filter((s) => draining.some((c) => c.socket === s.socket))) sub.end(UNAVAILABLE_DRAIN);
      server.subs = server.subs.filter((s) => !draining.some((c) => c.socket === s.socket));
      await server.waitFor(() => draining.every((c) => c.running === 0), 5000);
      for (const c of draining) c.socket.close(1001, "server shutting down");
      await server.waitFor(() => draining.every((c) => !server.conns.includes(c)));
      server.refuseUpgrades = refusing;
    },
    freeze() {
      for (const c of server.conns) frozen.add(c.socket);
      server.subs = server.subs.filter((s) => !frozen.has(s.socket));
    },
    async waitFor(pred, timeoutMs = 2000) {
      const start = Date.now();
      while (!pred()) {
        if (Date.now() - start > timeoutMs) throw new Error("waitFor: condition not met in time");
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    dropSockets() {
      for (const ws of wss.clients) ws.terminate();
      server.subs = [];
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => http.close(() => r()));
    },
  };

  const answer = (method: string, params: Json | undefined): Promise<Reply> => {
    const left = server.failures[method] ?? 0;
    if (left <= 0) return handle(method, params);
    server.failures[method] = left - 1;
    return Promise.resolve(framework(-32051, "down for now", { code: "UNAVAILABLE", retryAfterMs: 5 }));
  };

  const http = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      if (server.httpOverride?.(body, res)) return;
      const msg = JSON.parse(body) as Json;
      server.httpRequests.push({ headers: req.headers, body: msg });
      const one = async (m: Json): Promise<Json> => {
        const call = m as { [k: string]: Json };
        const reply = await answer(String(call["method"]), "params" in call ? call["params"] : undefined);
        return { jsonrpc: "2.0", id: call["id"] ?? null, ...reply };
      };
      const reply = Array.isArray(msg) ? await Promise.all(msg.map(one)) : await one(msg);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply));
    });
  });

  const wss = new WebSocketServer({
    server: http,
    path: "/rpc",
    verifyClient: (info, done) => {
      server.upgrades.push({ url: info.req.url ?? "", at: Date.now() });
      done(!server.refuseUpgrades, 503);
    },
  });
  wss.on("connection", (socket) => {
    const conn: ServerConn = { socket, subject: undefined, running: 0, messages: [], draining: false };
    server.conns.push(conn);
    socket.on("close", () => {
      server.conns = server.conns.filter((c) => c !== conn);
      server.subs = server.subs.filter((s) => s.socket !== socket);
    });
    const send = (m: Json): void => {
      if (!frozen.has(socket)) socket.send(JSON.stringify(m));
    };
    socket.on("message", (data) => {
      if (frozen.has(socket)) return;
      const msg = JSON.parse(String(data)) as { [k: string]: Json };
      server.wsMessages.push(msg);
      conn.messages.push(msg);
      const id = msg["id"] ?? null;
      const method = String(msg["method"]);
      const params = "params" in msg ? msg["params"] : undefined;
      const meta = msg["meta"];
      const reply = (r: Reply): void => send({ jsonrpc: "2.0", id, ...r });
      if (conn.draining) return reply({ error: UNAVAILABLE_DRAIN });
      if (method === "rpc.ping") return reply({ result: true });
      if (method === "rpc.authenticate") {
        const authorization = params !== null && typeof params === "object" && !Array.isArray(params) ? params["authorization"] : undefined;
        if (typeof authorization === "string" && server.tokens.has(authorization)) {
          conn.subject = authorization.replace(/^Bearer /, "");
          return reply({ result: { subject: conn.subject } });
        }
        conn.subject = null;
        return reply(framework(-32041, "unauthenticated", { code: "UNAUTHENTICATED" }));
      }
      if (server.authRequired && !conn.subject) return reply(framework(-32041, "unauthenticated", { code: "UNAUTHENTICATED" }));
      if (method === "todos.changes" && server.refuseSubscribe) return reply(err(1000, "refused", server.refuseSubscribe));
      if (method === "todos.changes" && (server.failures[method] ?? 0) > 0) {
        server.failures[method] = (server.failures[method] ?? 0) - 1;
        return reply(framework(-32051, "down for now", { code: "UNAVAILABLE", retryAfterMs: 5 }));
      }
      if (method === "todos.changes") {
        const subId = `sub-${nextSub++}`;
        const lastEventId = meta !== null && typeof meta === "object" && !Array.isArray(meta) && typeof meta["lastEventId"] === "string" ? meta["lastEventId"] : undefined;
        const notify = (p: { [k: string]: Json }): void => send({ jsonrpc: "2.0", method, params: { subscription: subId, ...p } });
        const sub: ServerSub = {
          id: subId,
          method,
          socket,
          lastEventId,
          send: (item, eventId) => notify(eventId === undefined ? { result: item } : { result: item, eventId }),
          end: (error) => notify({ error }),
        };
        for (const item of server.itemsBeforeAccept) sub.send(item);
        reply({ result: subId });
        if (lastEventId !== undefined) {
          const missed = replay(lastEventId);
          if (typeof missed === "string") {
            const data = { code: "EVENTS_MISSED", lastEventId, reason: missed };
            notify({ missed: { code: -32052, message: `cannot resume after ${lastEventId}: ${missed}`, data } });
          } else for (const ev of missed) sub.send(ev.value, ev.id);
        }
        server.subs.push(sub);
        return;
      }
      if (method === "todos.changes.unsubscribe") {
        const target = Array.isArray(params) ? params[0] : undefined;
        server.subs = server.subs.filter((s) => s.id !== target);
        return reply({ result: true });
      }
      conn.running += 1;
      void answer(method, params).then((r) => {
        conn.running -= 1;
        reply(r);
      });
    });
  });

  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/rpc`;
  return server;
}
