// Type-level tests: only type-checked (npm run typecheck), never run. Each @ts-expect-error
// line must fail to compile, and everything else must compile.
import WebSocket from "ws";
import { createClient as createHttpClient } from "../src/http.js";
import {
  AccordError,
  createClient,
  isAccordError,
  retryLink,
  type ErrorOf,
  type Link,
  type ConnectionState,
  type EventsMissed,
  type ProcedureError,
  type Subscription,
} from "../src/index.js";
import { procedures, type Procedures, type Todo, type TodoEvent } from "./fixtures/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

const client = createClient<Procedures>({ url: "http://127.0.0.1:3000/rpc", procedures, WebSocket });

export async function inputsAndOutputs(signal: AbortSignal): Promise<void> {
  const todo = await client.todos.get({ id: 1 });
  assertType<Equal<typeof todo, Todo>>(true);
  const all = await client.todos.list();
  assertType<Equal<typeof all, Todo[]>>(true);
  await client.todos.list(undefined, { signal, timeoutMs: 500 });
  await client.todos.get({ id: 1 }, { signal, timeoutMs: 500, headers: { "x-request-id": "abc" } });
  await client.todos.create({ title: "x" });

  // @ts-expect-error wrong input type
  await client.todos.get({ id: "1" });
  // @ts-expect-error missing input
  await client.todos.get();
  // @ts-expect-error input given to a void procedure
  await client.todos.list({ id: 1 });
  // @ts-expect-error unknown procedure
  await client.todos.remove({ id: 1 });
  // @ts-expect-error unknown namespace
  await client.users.get({ id: 1 });
  // @ts-expect-error unknown call option
  await client.todos.get({ id: 1 }, { retries: 3 });

  client.close();
  client.$close();
}

export async function subscriptions(): Promise<void> {
  const sub = client.todos.changes();
  assertType<Equal<typeof sub, Subscription<TodoEvent>>>(true);
  for await (const ev of sub) {
    assertType<Equal<typeof ev, TodoEvent>>(true);
    if (ev.kind === "deleted") ev.id satisfies number;
  }
  const iterable: AsyncIterable<TodoEvent> = client.todos.changes(undefined, { maxBuffered: 10 });
  void iterable;
  await sub.unsubscribe();
  const id: string = await sub.ready;
  void id;
  // @ts-expect-error a subscription is not a promise of its item
  const notAPromise: Promise<TodoEvent> = client.todos.changes();
  void notAPromise;
}

export function errors(e: unknown): string {
  if (client.todos.get.isError(e)) {
    assertType<Equal<typeof e, ProcedureError<Procedures["todos"]["get"]>>>(true);
    switch (e.code) {
      case "NOT_FOUND":
        return `no todo ${e.data.id}`;
      case "TITLE_TAKEN":
        // @ts-expect-error `id` belongs to NOT_FOUND, not to TITLE_TAKEN
        return `${e.data.title} ${e.data.id}`;
      case "INVALID_PARAMS":
        // @ts-expect-error INVALID_PARAMS carries `reason` and `violations`, never `expected`
        void e.data.expected;
        return `${e.data.path ?? ""} ${e.data.reason ?? ""} ${(e.data.violations ?? []).map((v) => `${v.path}: ${v.reason}`).join()}`;
      case "RATE_LIMITED":
        e.data.retryAfterMs satisfies number; // always sent with RATE_LIMITED
        return `retry in ${e.data.retryAfterMs}`;
      case "TRANSPORT":
        return `transport ${e.data.status ?? "-"} ${e.httpStatus ?? "-"}`;
      case "TIMEOUT":
      case "PARSE_ERROR":
      case "INVALID_REQUEST":
      case "METHOD_NOT_FOUND":
      case "INTERNAL":
      case "UNAUTHENTICATED":
      case "FORBIDDEN":
      case "CONFLICT":
      case "OVERLOADED":
      case "UNAVAILABLE":
      case "REQUEST_TOO_BIG":
      case "BATCH_TOO_BIG":
      case "EVENTS_MISSED":
        return `${e.code} ${e.rpcCode} ${e.message} ${e.method} ${e.requestId ?? ""} ${e.data.requestId ?? ""}`;
      default: {
        const exhaustive: never = e;
        return exhaustive;
      }
    }
  }
  if (isAccordError(e)) {
    const code: string = e.code;
    return code;
  }
  if (e instanceof AccordError) {
    // @ts-expect-error without a procedure the data fields are unknown
    const n: number = e.data.id;
    return String(n);
  }
  return "not ours";
}

export function errorTypes(): void {
  type GetErrorCodes = ErrorOf<Procedures["todos"]["get"]>["code"];
  assertType<Equal<Extract<GetErrorCodes, "NOT_FOUND" | "TITLE_TAKEN" | "TRANSPORT">, "NOT_FOUND" | "TITLE_TAKEN" | "TRANSPORT">>(true);
  // @ts-expect-error an unknown code is not part of the union
  const bad: GetErrorCodes = "NOPE";
  void bad;
}

export function kindTables(): void {
  // @ts-expect-error wrong kind for a procedure
  createClient<Procedures>({ url: "http://x/rpc", procedures: { todos: { ...procedures.todos, get: "mutation" } } });
  // @ts-expect-error a procedure is missing from the table
  createClient<Procedures>({ url: "http://x/rpc", procedures: { todos: { get: "query", list: "query", create: "mutation" } } });
  // @ts-expect-error a kind table of another API
  createClient<Procedures>({ url: "http://x/rpc", procedures: { users: { get: "query" } } });
  // @ts-expect-error the Procedures type argument cannot be inferred and is required
  createClient({ url: "http://x/rpc", procedures });
  // @ts-expect-error no kind table at all
  createClient<Procedures>({ url: "http://x/rpc" });
  // @ts-expect-error WebSocket must be a constructor
  createClient<Procedures>({ url: "http://x/rpc", procedures, WebSocket: {} });
  // The platform globals fit the injection points.
  createClient<Procedures>({ url: "http://x/rpc", procedures, fetch: globalThis.fetch, WebSocket: globalThis.WebSocket });
}

export async function httpOnly(): Promise<void> {
  const http = createHttpClient<Procedures>({ url: "http://x/rpc", procedures });
  const todo = await http.todos.get({ id: 1 });
  assertType<Equal<typeof todo, Todo>>(true);
  await http.todos.update({ id: 1, done: true });
  // @ts-expect-error the HTTP-only client has no subscriptions
  http.todos.changes();
  // @ts-expect-error nor WebSocket options
  createHttpClient<Procedures>({ url: "http://x/rpc", procedures, WebSocket });
  // @ts-expect-error nor in-band credentials
  createHttpClient<Procedures>({ url: "http://x/rpc", procedures, authenticate: () => "Bearer x" });
  // @ts-expect-error nor a connection to watch
  void http.$connection;
  http.$close();
}

export async function liveData(): Promise<void> {
  const live = createClient<Procedures>({
    url: "http://x/rpc",
    procedures,
    WebSocket,
    keepAliveMs: 5000,
    reconnect: { baseDelayMs: 50, maxDelayMs: 1000 },
    authenticate: async () => "Bearer t",
  });
  createClient<Procedures>({ url: "http://x/rpc", procedures, keepAliveMs: false, reconnect: false, authenticate: () => null });
  // @ts-expect-error credentials are a string (what an Authorization header carries)
  createClient<Procedures>({ url: "http://x/rpc", procedures, authenticate: () => ({ token: "t" }) });

  const state = live.$connection.state;
  assertType<Equal<typeof state, ConnectionState>>(true);
  // @ts-expect-error not one of the four states
  if (state === "disconnected") return;
  const stop: () => void = live.$connection.onChange((s) => {
    assertType<Equal<typeof s, ConnectionState>>(true);
  });
  stop();
  const who = await live.$connection.reauthenticate();
  assertType<Equal<typeof who, { subject: string } | undefined>>(true);

  const sub = live.todos.changes(undefined, {
    lastEventId: "1:2",
    onEventsMissed: (gap) => {
      assertType<Equal<typeof gap, EventsMissed>>(true);
      gap.code satisfies "EVENTS_MISSED";
      gap.data.reason satisfies "expired" | "unknown";
      gap.data.lastEventId satisfies string | undefined;
    },
  });
  const last: string | undefined = sub.lastEventId;
  void last;
  const off: () => void = sub.onEventsMissed(() => undefined);
  off();
  // @ts-expect-error read-only
  sub.lastEventId = "x";
}

export function idempotency(): void {
  const flag: boolean = client.todos.update.idempotent;
  void flag;
  // @ts-expect-error an idempotent mutation's entry says so
  createClient<Procedures>({ url: "http://x/rpc", procedures: { todos: { ...procedures.todos, update: "mutation" } } });
  // @ts-expect-error a plain mutation cannot claim to be idempotent
  createClient<Procedures>({ url: "http://x/rpc", procedures: { todos: { ...procedures.todos, create: "mutation:idempotent" } } });
}

export async function linksAndRetries(signal: AbortSignal): Promise<void> {
  const auth: Link = async (op, next) => next({ ...op, headers: { ...op.headers, authorization: "Bearer t" } });
  const logging: Link = async (op, next) => {
    const started = Date.now();
    try {
      return await next(op);
    } finally {
      console.log(op.method, op.kind, op.attempt, op.idempotent, op.deadline, op.context["tag"], Date.now() - started);
    }
  };
  const c = createClient<Procedures>({
    url: "http://x/rpc",
    procedures,
    links: [auth, logging],
    retry: { attempts: 5, baseDelayMs: 50, maxDelayMs: 1000 },
    batch: { maxCalls: 20, maxBytes: 64 * 1024 },
  });
  await c.todos.get({ id: 1 }, { retry: false, signal, context: { tag: "x" } });
  await c.todos.get({ id: 1 }, { retry: { attempts: 2, retryOn: (e) => isAccordError(e) && e.code === "CONFLICT" } });
  createClient<Procedures>({ url: "http://x/rpc", procedures, retry: false, batch: false, links: [retryLink({ attempts: 2 }), auth] });
  // @ts-expect-error a link returns a promise
  createClient<Procedures>({ url: "http://x/rpc", procedures, links: [(op: unknown) => op] });
}
