// Against a running todos example server: ACCORD_LIVE_URL=http://127.0.0.1:3000/rpc npm test -w client-ts.
// Skipped when the variable is unset. Types are a hand-kept subset of examples/todos/api (until
// its generated bindings exist); shapes beyond the documented ones are checked loosely.
import assert from "node:assert/strict";
import { it } from "node:test";
import WebSocket from "ws";
import { createClient } from "../src/index.js";

type Todo = { id: number; title: string; done: boolean };
type TodoError = { code: "NOT_FOUND"; id: number } | { code: "TITLE_TAKEN"; title: string } | { code: "INVALID_TITLE"; length: number };
type TodoEvent = { type: string } & Record<string, unknown>;
type Procedures = {
  todos: {
    get: { kind: "query"; input: { id: number }; output: Todo; error: TodoError };
    list: { kind: "query"; input: { done?: boolean; tag?: string }; output: Array<Todo>; error: TodoError };
    create: { kind: "mutation"; input: { title: string }; output: Todo; error: TodoError };
    changes: { kind: "subscription"; input: void; output: TodoEvent; error: TodoError };
  };
};
const procedures = {
  todos: { get: "query", list: "query", create: "mutation", changes: "subscription" },
} as const;

const url = process.env["ACCORD_LIVE_URL"];
const skip = url ? false : "ACCORD_LIVE_URL not set";
if (!url) console.log("skipped: ACCORD_LIVE_URL not set");

it("talks to the live todos server", { skip, timeout: 15_000 }, async () => {
  const client = createClient<Procedures>({ url: url ?? "", procedures, WebSocket, timeoutMs: 5_000 });
  try {
    const changes = client.todos.changes();
    await changes.ready;

    const title = `live-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const created = await client.todos.create({ title });
    assert.equal(typeof created.id, "number");
    assert.equal(created.title, title);
    assert.equal(typeof created.done, "boolean");

    assert.deepEqual(await client.todos.get({ id: created.id }), created);
    assert.ok((await client.todos.list({})).some((t) => t.id === created.id));

    const missing = 2 ** 32 - 7; // a u32 no test creates
    try {
      await client.todos.get({ id: missing });
      assert.fail("expected NOT_FOUND");
    } catch (e) {
      assert.ok(client.todos.get.isError(e), `unexpected ${String(e)}`);
      assert.equal(e.code, "NOT_FOUND");
      if (e.code === "NOT_FOUND") assert.equal(e.data.id, missing);
    }

    // The creation above shows up on the change stream (other clients' changes may come first).
    let seen: TodoEvent | undefined;
    for await (const ev of changes) {
      assert.equal(typeof ev.type, "string");
      if (JSON.stringify(ev).includes(`"id":${created.id},`)) {
        seen = ev;
        break;
      }
    }
    assert.ok(seen, "the change stream reported the new todo");
    await changes.unsubscribe();
  } finally {
    client.close();
  }
});
