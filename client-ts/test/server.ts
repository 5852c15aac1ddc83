// An in-test Accord-like JSON-RPC server (node:http + ws) speaking docs/wire.md for the todos fixture,
// with hooks to misbehave on purpose.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

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
  httpRequests: Array<{ headers: IncomingHttpHeaders; body: Json }>;
  wsMessages: Array<Record<string, Json>>;
  subs: ServerSub[];
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

async function handle(method: string, params: Json | undefined): Promise<Reply> {
  const obj = params !== null && typeof params === "object" && !Array.isArray(params) ? params : undefined;
  switch (method) {
    case "todos.get": {
      const id = obj?.["id"];
      if (typeof id !== "number") return err(-32602, "invalid params", { code: "INVALID_PARAMS", path: "id", expected: "a number" });
      if (id >= 10_000) await new Promise((r) => setTimeout(r, id - 10_000)); // slow on purpose
      if (id === 404) return err(1000, "todo 404 does not exist", { code: "NOT_FOUND", id });
      if (id === 500) return err(-32603, "internal error", { code: "INTERNAL" });
      return { result: todo(id) };
    }
    case "todos.list":
      // Void input must arrive without params (wire.md "Params").
      if (params !== undefined) return err(-32602, "unexpected params", { code: "INVALID_PARAMS", path: "", expected: "nothing" });
      return { result: [todo(1), todo(2)] };
    case "todos.create": {
      const title = obj?.["title"];
      if (typeof title !== "string") return err(-32602, "invalid params", { code: "INVALID_PARAMS", path: "title", expected: "a string" });
      if (title === "taken") return err(1001, "title taken", { code: "TITLE_TAKEN", title });
      return { result: { id: 3, title, done: false } };
    }
    default:
      return err(-32601, "method not found", { code: "METHOD_NOT_FOUND" });
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

  const http = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      if (server.httpOverride?.(body, res)) return;
      const msg = JSON.parse(body) as { [k: string]: Json };
      server.httpRequests.push({ headers: req.headers, body: msg });
      const reply = await handle(String(msg["method"]), "params" in msg ? msg["params"] : undefined);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: msg["id"] ?? null, ...reply }));
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
      void handle(method, params).then((reply) => send({ jsonrpc: "2.0", id, ...reply }));
    });
  });

  await new Promise<void>((r) => http.listen(0, "127.0.0.1", () => r()));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/rpc`;
  return server;
}
