// With query-core's real QueryClient against a running todos example server:
//   ACCORD_LIVE_URL=http://127.0.0.1:3000/rpc npm test -w client-ts/tanstack-query
// Skipped when the variable is unset. Types are the todos example's generated bindings.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient, isAccordError, type Client } from "@accord/client";
import { MutationObserver, QueryClient, QueryObserver } from "@tanstack/query-core";
import WebSocket from "ws";
import { procedures, type Procedures, type Todo, type TodoEvent } from "../../../examples/todos/web/src/api/index.js";
import { createQueryHelpers } from "../src/index.js";

const url = process.env["ACCORD_LIVE_URL"];
const skip = url ? false : "ACCORD_LIVE_URL not set";
if (!url) console.log("# skipped: ACCORD_LIVE_URL not set");

const unique = (): string => `tq-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** The list after `event` (the README's subscription pattern). */
function applyEvent(todos: Todo[] | undefined, event: TodoEvent): Todo[] | undefined {
  if (!todos) return todos;
  switch (event.type) {
    case "created":
      return [...todos, event.todo];
    case "updated":
      return todos.map((t) => (t.id === event.todo.id ? event.todo : t));
    case "deleted":
      return todos.filter((t) => t.id !== event.id);
  }
}

describe("with a real QueryClient against the live todos server", { skip, timeout: 20_000 }, () => {
  let client: Client<Procedures>;
  let queryClient: QueryClient;
  before(() => {
    client = createClient<Procedures>({ url: url ?? "", procedures, WebSocket, timeoutMs: 5_000 });
    queryClient = new QueryClient();
    queryClient.mount();
  });
  after(() => {
    queryClient.unmount();
    queryClient.clear();
    client.close();
  });

  it("fetches queries into the cache under the helper's key", async () => {
    const api = createQueryHelpers(client);
    const created = await client.todos.create({ title: unique() });
    const todo = await queryClient.fetchQuery(api.todos.get.queryOptions({ id: created.id }));
    assert.deepEqual(todo, created);
    const cached = queryClient.getQueryData(api.todos.get.queryKey({ id: created.id }));
    assert.equal(cached?.title, created.title, "getQueryData is typed by the tagged key");
  });

  it("turns a mutation's success into an invalidation the observer refetches", async () => {
    const api = createQueryHelpers(client);
    const filter = {};
    const observer = new QueryObserver(queryClient, api.todos.list.queryOptions(filter));
    const lists: Todo[][] = [];
    const unsubscribe = observer.subscribe((result) => {
      if (result.data && !result.isFetching) lists.push(result.data);
    });
    try {
      await until(() => lists.length > 0);
      const title = unique();
      const mutation = new MutationObserver(
        queryClient,
        api.todos.create.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: api.todos.queryKey() }) }),
      );
      const made = await mutation.mutate({ title });
      assert.equal(made.title, title);
      await until(() => lists.at(-1)?.some((t) => t.id === made.id) === true);
    } finally {
      unsubscribe();
    }
  });

  it("reports the procedure's typed error", async () => {
    const api = createQueryHelpers(client);
    const missing = 2 ** 32 - 11;
    try {
      await queryClient.fetchQuery(api.todos.get.queryOptions({ id: missing }, { retry: false }));
      assert.fail("expected NOT_FOUND");
    } catch (e) {
      assert.ok(client.todos.get.isError(e) && e.code === "NOT_FOUND");
      assert.equal(e.data.id, missing);
    }
    const state = queryClient.getQueryState(api.todos.get.queryKey({ id: missing }));
    assert.ok(state?.error && isAccordError(state.error) && state.error.code === "NOT_FOUND");

    const mutation = new MutationObserver(queryClient, api.todos.create.mutationOptions());
    const e = await mutation.mutate({ title: "" }).catch((error: unknown) => error);
    assert.ok(client.todos.create.isError(e) && e.code === "INVALID_TITLE");
  });

  it("feeds a subscription into the cache", async () => {
    const api = createQueryHelpers(client);
    const key = api.todos.list.queryKey({});
    await queryClient.fetchQuery(api.todos.list.queryOptions({}));
    const changes = client.todos.changes();
    await changes.ready;
    const fed = (async () => {
      for await (const event of changes) queryClient.setQueryData(key, (old) => applyEvent(old, event));
    })();
    try {
      const made = await client.todos.create({ title: unique() });
      await until(() => queryClient.getQueryData(key)?.some((t) => t.id === made.id) === true);
      await client.todos.delete({ id: made.id });
      await until(() => queryClient.getQueryData(key)?.some((t) => t.id === made.id) === false);
    } finally {
      await changes.unsubscribe();
      await fed;
    }
  });

  it("cancels the call when TanStack cancels the query", async () => {
    const api = createQueryHelpers(client);
    let seen: AbortSignal | undefined;
    const options = api.todos.stats.queryOptions();
    const fetching = queryClient.fetchQuery({
      ...options,
      queryFn: (context) => {
        seen = context.signal;
        return options.queryFn(context);
      },
    });
    await queryClient.cancelQueries({ queryKey: options.queryKey });
    await fetching.catch(() => undefined);
    assert.equal(seen?.aborted, true);
  });
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
