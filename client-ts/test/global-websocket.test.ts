// The platform WebSocket (undici's in Node 22+, or Node 20 with --experimental-websocket), used
// without injection; skipped where there is none.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { createClient } from "../src/index.js";
import { procedures, type Procedures, type TodoEvent } from "./fixtures/index.js";
import { startServer, type TestServer } from "./server.js";

const hasWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function";
let server: TestServer;
before(async () => (server = await startServer()));
after(() => server.close());

it("subscribes and calls through the global WebSocket", { skip: hasWebSocket ? false : "no global WebSocket" }, async () => {
  const client = createClient<Procedures>({ url: server.url, procedures, transport: "ws", reconnect: false });
  try {
    assert.equal((await client.todos.get({ id: 7 })).id, 7);
    const sub = client.todos.changes();
    await sub.ready;
    server.subs[0]?.send({ kind: "deleted", id: 1 });
    server.subs[0]?.end(null);
    const got: TodoEvent[] = [];
    for await (const ev of sub) got.push(ev);
    assert.deepEqual(got, [{ kind: "deleted", id: 1 }]);
    const pending = client.todos.changes().next();
    await server.waitFor(() => server.subs.length === 2);
    server.dropSockets();
    await assert.rejects(pending, (e: unknown) => client.todos.changes.isError(e) && e.code === "TRANSPORT");
  } finally {
    client.close();
  }
});
