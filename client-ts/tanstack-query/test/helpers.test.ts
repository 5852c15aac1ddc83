// The helpers' shapes against a stand-in client: keys, and what the query and mutation
// functions pass to the procedures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Client } from "@accord/client";
import { createQueryHelpers } from "../src/index.js";

type P = {
  todos: {
    get: { kind: "query"; input: number; output: string; error: never };
    stats: { kind: "query"; input: void; output: string; error: never };
    create: { kind: "mutation"; input: string; output: string; error: never };
    changes: { kind: "subscription"; input: void; output: string; error: never };
  };
};

type Call = { method: string; input: unknown; options: unknown };

/** A stand-in with the runtime shape of an @accord/client client. */
function fakeClient(calls: Call[]): Client<P> {
  const fn = (method: string, kind: string) =>
    Object.assign(
      async (input: unknown, options: unknown) => {
        calls.push({ method, input, options });
        return `${method} done`;
      },
      { method, kind, idempotent: kind === "query", isError: () => false },
    );
  return {
    todos: { get: fn("todos.get", "query"), stats: fn("todos.stats", "query"), create: fn("todos.create", "mutation"), changes: fn("todos.changes", "subscription") },
    close: () => undefined,
    $close: () => undefined,
  } as unknown as Client<P>;
}

describe("createQueryHelpers", () => {
  it("makes keys from namespace, method and input", () => {
    const api = createQueryHelpers(fakeClient([]));
    assert.deepEqual(api.todos.queryKey(), ["todos"]);
    assert.deepEqual(api.todos.get.queryKey(), ["todos", "get"]);
    assert.deepEqual(api.todos.get.queryKey(7), ["todos", "get", 7]);
    assert.deepEqual(api.todos.stats.queryOptions().queryKey, ["todos", "stats"]);
    assert.deepEqual(api.todos.create.mutationKey(), ["todos", "create"]);
    assert.deepEqual(api.todos.changes.queryKey(), ["todos", "changes"]);
    assert.equal("close" in api, false, "client controls are not namespaces");
  });

  it("calls the procedure with TanStack's signal and the call options", async () => {
    const calls: Call[] = [];
    const api = createQueryHelpers(fakeClient(calls));
    const signal = new AbortController().signal;
    const options = api.todos.get.queryOptions(3, { staleTime: 1_000, call: { timeoutMs: 50 } });
    assert.equal(options.staleTime, 1_000);
    assert.equal("call" in options, false, "call options are not query options");
    assert.equal(await options.queryFn({ signal } as never), "todos.get done");
    assert.deepEqual(calls.pop(), { method: "todos.get", input: 3, options: { timeoutMs: 50, signal } });

    const mutation = api.todos.create.mutationOptions({ call: { headers: { "x-a": "1" } }, retry: 2 });
    assert.equal(mutation.retry, 2);
    assert.equal(await mutation.mutationFn("new", {} as never), "todos.create done");
    assert.deepEqual(calls.pop(), { method: "todos.create", input: "new", options: { headers: { "x-a": "1" } } });
  });
});
