// The todos app: the list (a TanStack query kept live by `todos.changes`), a form to add, and
// per-item toggle and delete (mutations). Every call and error is typed by the generated bindings.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, useSyncExternalStore, type FormEvent } from "react";
import type { Todo } from "./api/index.js";
import { api, client } from "./client.js";
import { applyEvent, errorMessage } from "./todos.js";

/** The list everyone sees: all todos, oldest first. */
const ALL = {};

type Live = "connecting" | "live" | "reconnecting" | { failed: string };

/** The client's WebSocket state, re-rendering on every change. */
function useConnectionState() {
  const { $connection } = client;
  return useSyncExternalStore($connection.onChange, () => $connection.state);
}

/**
 * Keeps the cached list current from the change stream. The stream starts first and the list
 * is refetched once it is accepted, so no change falls between the load and the subscription.
 * The stream outlives restarts of the server (the client resubscribes); when changes may have
 * been missed meanwhile, everything is refetched.
 */
function useLiveTodos(): Live {
  const queryClient = useQueryClient();
  const connection = useConnectionState();
  const [live, setLive] = useState<Live>("connecting");
  useEffect(() => {
    const stop = new AbortController();
    const changes = client.todos.changes(undefined, {
      signal: stop.signal,
      onEventsMissed: () => void queryClient.invalidateQueries({ queryKey: api.todos.queryKey() }),
    });
    void changes.ready.then(
      () => {
        setLive("live");
        void queryClient.invalidateQueries({ queryKey: api.todos.queryKey() });
      },
      () => undefined, // reported by the loop below
    );
    void (async () => {
      try {
        for await (const event of changes) {
          queryClient.setQueryData(api.todos.list.queryKey(ALL), (old) => applyEvent(old, event));
          if (event.type !== "deleted") queryClient.setQueryData(api.todos.get.queryKey({ id: event.todo.id }), event.todo);
          void queryClient.invalidateQueries({ queryKey: api.todos.stats.queryKey() });
        }
        if (!stop.signal.aborted) setLive({ failed: "The server ended the live updates." });
      } catch (e) {
        if (stop.signal.aborted) return;
        setLive({ failed: client.todos.changes.isError(e) ? errorMessage(e) : String(e) });
      }
    })();
    return () => stop.abort();
  }, [queryClient]);
  return live === "live" && connection === "reconnecting" ? "reconnecting" : live;
}

function AddTodo() {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState("");
  const create = useMutation(
    api.todos.create.mutationOptions({
      onSuccess: (todo) => {
        setTitle("");
        queryClient.setQueryData(api.todos.list.queryKey(ALL), (old) => applyEvent(old, { type: "created", todo }));
      },
    }),
  );
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const tags = [...title.matchAll(/#(\w+)/g)].map((m) => m[1] ?? "");
    create.mutate({ title: title.replace(/#\w+/g, "").trim(), tags });
  };
  return (
    <form className="add" onSubmit={submit}>
      <input name="title" placeholder="What needs doing? (#tags too)" value={title} onChange={(e) => setTitle(e.target.value)} />
      <button type="submit" disabled={create.isPending}>
        Add
      </button>
      {create.error && <p role="alert">{errorMessage(create.error)}</p>}
    </form>
  );
}

function TodoItem({ todo }: { todo: Todo }) {
  // `update` is declared idempotent in Rust: the client retries it after a network failure.
  const update = useMutation(api.todos.update.mutationOptions());
  const remove = useMutation(api.todos.delete.mutationOptions());
  const error = update.error ?? remove.error;
  return (
    <li data-id={todo.id} className={`todo priority-${todo.priority}${todo.done ? " done" : ""}`}>
      <label>
        <input
          type="checkbox"
          checked={todo.done}
          disabled={update.isPending}
          onChange={() => update.mutate({ id: todo.id, done: !todo.done })}
        />
        <span title={todo.note ?? undefined}>{todo.title}</span>
      </label>
      {todo.tags.map((tag) => (
        <small key={tag}>#{tag}</small>
      ))}
      <button type="button" onClick={() => remove.mutate({ id: todo.id })} disabled={remove.isPending}>
        Delete
      </button>
      {error && <p role="alert">{errorMessage(error)}</p>}
    </li>
  );
}

function Stats() {
  const stats = useQuery(api.todos.stats.queryOptions());
  if (!stats.data) return null;
  const { total, done } = stats.data;
  return (
    <p className="stats">
      {total} {total === 1 ? "todo" : "todos"}, {done} done
    </p>
  );
}

export function App() {
  const live = useLiveTodos();
  const todos = useQuery(api.todos.list.queryOptions(ALL));
  return (
    <main>
      <h1>Todos</h1>
      <p className="live" role="status" data-live={typeof live === "string" ? live : "failed"}>
        {live === "live" ? "Live" : live === "connecting" ? "Connecting…" : live === "reconnecting" ? "Reconnecting…" : live.failed}
      </p>
      <AddTodo />
      {todos.error && <p role="alert">{errorMessage(todos.error)}</p>}
      {todos.data && (
        <ul className="todos">
          {todos.data.map((todo) => (
            <TodoItem key={todo.id} todo={todo} />
          ))}
        </ul>
      )}
      <Stats />
    </main>
  );
}
