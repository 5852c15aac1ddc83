/**
 * The kind of every procedure, for `createClient`: it picks HTTP or WebSocket by kind, and retries
 * queries and `mutation:idempotent`s (mutations declared `#[mutation(idempotent)]`).
 */
export const procedures = {
    todos: { changes: "subscription", create: "mutation", delete: "mutation", get: "query", list: "query", stats: "query", update: "mutation:idempotent" },
};
