// The todos example's frontend: a small browser module that talks to the todos server only
// through `@accord/client` and the bindings generated from the Rust API (`./api/`, never edited
// by hand). CI type-checks it in strict mode against freshly generated bindings, so changing a
// Rust wire type breaks this file at the call site (see examples/todos/api/tests/drift.rs).

import { createClient, type Client, type FrameworkErrorCode, type ProcedureError } from "@accord/client";
import { procedures, type Procedures, type Todo, type TodoEvent, type TodoFilter, type TodoStats } from "./api/index.js";

/** What a call that can fail for a reason worth showing returns. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; message: string };

/** The error of any todos procedure: the domain union `TodoError` plus the framework codes. */
type TodoFailure = ProcedureError<Procedures["todos"]["create"]>;

/** The message shown for a failed call. */
export function errorMessage(e: TodoFailure): string {
  switch (e.code) {
    case "NOT_FOUND":
      return `Todo ${e.data.id} no longer exists.`;
    case "TITLE_TAKEN":
      return `An open todo is already titled "${e.data.title}".`;
    case "INVALID_TITLE":
      return `A title has 1 to 200 characters; this one has ${e.data.length}.`;
    default: {
      // Only framework codes get here. A new variant of the Rust `TodoError` would too, and
      // then this line stops compiling until the variant gets its own case above.
      const _exhaustive: never = e.code as Exclude<typeof e.code, FrameworkErrorCode>;
      void _exhaustive;
      return e.code === "TRANSPORT" ? "The server cannot be reached." : `${e.message} (${e.code})`;
    }
  }
}

/** The list after `event`, keeping creation order. */
export function applyEvent(todos: readonly Todo[], event: TodoEvent): Todo[] {
  switch (event.type) {
    case "created":
      return [...todos, event.todo];
    case "updated":
      return todos.map((t) => (t.id === event.todo.id ? event.todo : t));
    case "deleted":
      return todos.filter((t) => t.id !== event.id);
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

/** The todos API as the UI uses it: every call that can fail in a user-visible way returns an `Outcome`. */
export class TodoApp {
  readonly #client: Client<Procedures>;

  constructor(url: string) {
    this.#client = createClient<Procedures>({ url, procedures });
  }

  /** Creates a todo; a refused title comes back as a message for the form. */
  async addTodo(title: string, tags: string[] = []): Promise<Outcome<Todo>> {
    try {
      return { ok: true, value: await this.#client.todos.create({ title, tags }) };
    } catch (e) {
      if (!this.#client.todos.create.isError(e)) throw e; // an abort, or a bug
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** Flips a todo between open and done. */
  async toggle(id: number): Promise<Outcome<Todo>> {
    const { todos } = this.#client;
    try {
      const todo = await todos.get({ id });
      return { ok: true, value: await todos.update({ id, done: !todo.done }) };
    } catch (e) {
      if (todos.get.isError(e) || todos.update.isError(e)) return { ok: false, message: errorMessage(e) };
      throw e;
    }
  }

  /** Deletes a todo. */
  async remove(id: number): Promise<Outcome<Todo>> {
    try {
      return { ok: true, value: await this.#client.todos.delete({ id }) };
    } catch (e) {
      if (!this.#client.todos.delete.isError(e)) throw e;
      return { ok: false, message: errorMessage(e) };
    }
  }

  /** The todos matching `filter`, oldest first. Failures (server down...) propagate. */
  load(filter: TodoFilter = {}): Promise<Todo[]> {
    return this.#client.todos.list(filter);
  }

  stats(): Promise<TodoStats> {
    return this.#client.todos.stats();
  }

  /** Calls `onEvent` for every change until `signal` aborts (resolves) or the stream fails. */
  async watch(onEvent: (event: TodoEvent) => void, signal?: AbortSignal): Promise<Outcome<void>> {
    try {
      for await (const event of this.#client.todos.changes(undefined, { signal })) onEvent(event);
      return { ok: true, value: undefined };
    } catch (e) {
      if (signal?.aborted) return { ok: true, value: undefined };
      if (!this.#client.todos.changes.isError(e)) throw e;
      return { ok: false, message: errorMessage(e) };
    }
  }

  close(): void {
    this.#client.close();
  }
}

/** Renders `todos` into `root`, replacing its contents. Controls carry `data-action`; items `data-id`. */
export function render(root: HTMLElement, todos: readonly Todo[]): void {
  const list = document.createElement("ul");
  for (const todo of todos) {
    const item = document.createElement("li");
    item.dataset.id = String(todo.id);
    item.className = `todo priority-${todo.priority}${todo.done ? " done" : ""}`;

    const done = document.createElement("input");
    done.type = "checkbox";
    done.checked = todo.done;
    done.dataset.action = "toggle";

    const title = document.createElement("span");
    title.textContent = todo.title;
    if (todo.note != null) title.title = todo.note;

    const tags = todo.tags.map((tag) => {
      const el = document.createElement("small");
      el.textContent = `#${tag}`;
      return el;
    });

    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Delete";
    remove.dataset.action = "remove";

    item.append(done, title, ...tags, remove);
    list.append(item);
  }
  root.replaceChildren(list);
}

/** Shows the live list in `root`: loads it, keeps it current and wires the item controls. */
export async function mount(root: HTMLElement, app: TodoApp, signal?: AbortSignal): Promise<void> {
  const report = (outcome: Outcome<unknown>): void => {
    if (!outcome.ok) root.dataset.error = outcome.message;
    else delete root.dataset.error;
  };
  root.addEventListener(
    "click",
    (event) => {
      const control = event.target instanceof HTMLElement ? event.target.closest<HTMLElement>("[data-action]") : null;
      const id = Number(control?.closest<HTMLElement>("li[data-id]")?.dataset.id);
      if (!control || !Number.isInteger(id)) return;
      void (control.dataset.action === "toggle" ? app.toggle(id) : app.remove(id)).then(report);
    },
    signal ? { signal } : {},
  );

  // Changes made between this load and the subscription are missed; fine for a demo, a real
  // app would subscribe first (or reload when the stream restarts).
  let todos = await app.load();
  render(root, todos);
  report(
    await app.watch((event) => {
      todos = applyEvent(todos, event);
      render(root, todos);
    }, signal),
  );
}
