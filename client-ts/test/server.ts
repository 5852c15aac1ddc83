// An in-test Accord-like JSON-RPC server (node:http + ws) speaking docs/wire.md for the todos fixture,
// with hooks to misbehave on purpose.
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
  send(item: Json): void;
  end(error: Json): void;
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

export async function startServer(): Promise<TestServer> {
  let nextSub = 1;
  const server: TestServer = {
    url: "",
    httpRequests: [],
    wsMessages: [],
    subs: [],
    httpOverride: undefined,
    failures: {},
    itemsBeforeAccept: [],
    refuseSubscribe: undefined,
    async waitFor(pred, timeoutMs = 2000) {
      const start = Date.now();
      while (!pred()) {
        if (Date.now() - start > timeoutMs) throw new Error("waitFor: condition not met in time");
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    dropSockets() {
      for (const ws of wss.clients) ws.terminate();
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

  const wss = new WebSocketServer({ server: http, path: "/rpc" });
  wss.on("connection", (socket) => {
    const send = (m: Json): void => socket.send(JSON.stringify(m));
    socket.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { [k: string]: Json };
      server.wsMessages.push(msg);
      const id = msg["id"] ?? null;
      const method = String(msg["method"]);
      const params = "params" in msg ? msg["params"] : undefined;
      if (method === "todos.changes" && server.refuseSubscribe) {
        send({ jsonrpc: "2.0", id, ...err(1000, "refused", server.refuseSubscribe) });
        return;
      }
      if (method === "todos.changes") {
        const subId = `sub-${nextSub++}`;
        const sub: ServerSub = {
          id: subId,
          method,
          socket,
          send: (item) => send({ jsonrpc: "2.0", method, params: { subscription: subId, result: item } }),
          end: (error) => send({ jsonrpc: "2.0", method, params: { subscription: subId, error } }),
        };
        for (const item of server.itemsBeforeAccept) sub.send(item);
        send({ jsonrpc: "2.0", id, result: subId });
        server.subs.push(sub);
        return;
      }
      if (method === "todos.changes.unsubscribe") {
        const target = Array.isArray(params) ? params[0] : undefined;
        server.subs = server.subs.filter((s) => s.id !== target);
        send({ jsonrpc: "2.0", id, result: true });
        return;
      }
      void answer(method, params).then((reply) => send({ jsonrpc: "2.0", id, ...reply }));
    });
  });

  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/rpc`;
  return server;
}
