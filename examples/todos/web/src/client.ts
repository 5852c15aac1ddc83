// The one client of the app and its TanStack Query helpers, typed by the bindings generated
// from the Rust API (./api/, never edited by hand).
import { createClient } from "@accord/client";
import { createQueryHelpers } from "@accord/tanstack-query";
import { procedures, type Procedures } from "./api/index.js";

/** Calls go to the server that served the page (`/rpc` beside it); the WebSocket too. */
export const client = createClient<Procedures>({ url: "/rpc", procedures, timeoutMs: 10_000 });

/** `api.todos.list.queryOptions(filter)`, `api.todos.create.mutationOptions()`, `api.todos.queryKey()`... */
export const api = createQueryHelpers(client);
