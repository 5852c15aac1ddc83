// What the UI shows for the API's outcomes: messages for typed errors, and the list after a
// change event. Pure functions, so that they are easy to test and reuse.
import type { FrameworkErrorCode, ProcedureError } from "@accord/client";
import type { Procedures, Todo, TodoEvent } from "./api/index.js";

/** The error of any todos procedure: the domain union `TodoError` plus the framework codes. */
export type TodoFailure = ProcedureError<Procedures["todos"]["create"]>;

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

/** The list after `event`, keeping creation order; `undefined` (not loaded yet) stays so. */
export function applyEvent(todos: Todo[] | undefined, event: TodoEvent): Todo[] | undefined {
  if (todos === undefined) return undefined;
  switch (event.type) {
    case "created":
      return todos.some((t) => t.id === event.todo.id) ? todos : [...todos, event.todo];
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
