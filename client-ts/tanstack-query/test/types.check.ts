// Type-level tests: only type-checked (npm run typecheck), never run.
import { createClient, type ProcedureError } from "@accord/client";
import { createClient as createHttpClient } from "@accord/client/http";
import { QueryClient, QueryObserver } from "@tanstack/query-core";
import { procedures, type Procedures, type Todo } from "../../../examples/todos/web/src/api/index.js";
import { createQueryHelpers } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

const api = createQueryHelpers(createClient<Procedures>({ url: "http://x/rpc", procedures }));
const queryClient = new QueryClient();

export async function queries(): Promise<void> {
  const todo = await queryClient.fetchQuery(api.todos.get.queryOptions({ id: 1 }));
  assertType<Equal<typeof todo, Todo>>(true);
  const cached = queryClient.getQueryData(api.todos.get.queryKey({ id: 1 }));
  assertType<Equal<typeof cached, Todo | undefined>>(true);
  const observer = new QueryObserver(queryClient, api.todos.list.queryOptions({}, { select: (todos) => todos.length }));
  const result = observer.getCurrentResult();
  assertType<Equal<typeof result.data, number | undefined>>(true);
  assertType<Equal<typeof result.error, ProcedureError<Procedures["todos"]["list"]> | null>>(true);
  api.todos.stats.queryOptions();
  api.todos.get.queryOptions({ id: 1 }, { call: { timeoutMs: 100, retry: false } });
  // @ts-expect-error wrong input
  api.todos.get.queryOptions({ id: "1" });
  // @ts-expect-error a void query takes no input
  api.todos.stats.queryOptions({});
  // @ts-expect-error queries have no mutationOptions
  api.todos.get.mutationOptions();
}

export function mutationsAndKeys(): void {
  const options = api.todos.create.mutationOptions({
    onError: (error) => {
      if (error.code === "TITLE_TAKEN") error.data.title satisfies string;
    },
  });
  void options;
  // @ts-expect-error mutations have no queryOptions
  api.todos.create.queryOptions({ title: "x" });
  assertType<Equal<ReturnType<typeof api.todos.queryKey>, readonly ["todos"]>>(true);
  api.todos.changes.queryKey();
  const http = createQueryHelpers(createHttpClient<Procedures>({ url: "http://x/rpc", procedures }));
  http.todos.list.queryOptions({});
  // @ts-expect-error the HTTP-only client has no subscriptions, so no helpers for them
  http.todos.changes.queryKey();
}
