// Type-level vocabulary: the shape of a generated `Procedures` map and the client type derived from it.
import type { AccordError } from "./errors.js";
import type { FrameworkErrorData } from "./framework.js";
import type { RetryOptions } from "./retry.js";

export type ProcedureKind = "query" | "mutation" | "subscription";

/** One entry of a generated `Procedures` map (see docs/bindings.md). */
export interface ProcedureDef {
  kind: ProcedureKind;
  /** Present (`true`) on mutations declared `#[mutation(idempotent)]`. */
  idempotent?: true;
  /** Present (`true`) on subscriptions whose items carry event ids (`Tracked<T>`): they resume after a reconnect. */
  tracked?: true;
  input: unknown;
  output: unknown;
  error: unknown;
}

/** A generated `Procedures` map: namespace → method → definition. */
export type ProcedureMap = { [namespace: string]: { [method: string]: ProcedureDef } };

/** The kind table's entry for a procedure: its kind, or `"mutation:idempotent"`. */
export type KindEntry<D extends ProcedureDef> = D extends { idempotent: true } ? "mutation:idempotent" : D["kind"];

/** The runtime kind table that must accompany `P` (the generated `procedures` constant). */
export type KindTable<P extends ProcedureMap> = {
  readonly [N in keyof P]: { readonly [M in keyof P[N]]: KindEntry<P[N][M]> };
};

export type InputOf<D extends ProcedureDef> = D["input"];
export type OutputOf<D extends ProcedureDef> = D["output"];
/** The procedure's own error variants (its `error` union), without framework errors. */
export type DomainErrorOf<D extends ProcedureDef> = Extract<D["error"], { code: string }>;
/** Every `error.data` a call of the procedure can reject with: its domain union plus framework errors. */
export type ErrorOf<D extends ProcedureDef> = DomainErrorOf<D> | FrameworkErrorData;
/** The error a call of the procedure rejects with; narrow it with `switch (e.code)`. */
export type ProcedureError<D extends ProcedureDef> = AccordError<ErrorOf<D>>;

/** A header map, or a function computing one per request (e.g. to attach a fresh auth token). */
export type HeadersInput =
  | Readonly<Record<string, string>>
  | (() => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>);

export interface CallOptions {
  /** Aborting rejects the call with `signal.reason` (a DOMException "AbortError" by default). */
  signal?: AbortSignal | undefined;
  /** Deadline in ms, retries included; rejects with an AccordError "TIMEOUT". `Infinity` disables. */
  timeoutMs?: number | undefined;
  /** Extra HTTP headers for this call; they win over the client's. Not sent over WebSocket. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** This call's retries: `false` for none, or options merged over the client's. */
  retry?: RetryOptions | false | undefined;
  /** Values for your links (`op.context`). */
  context?: Readonly<Record<string, unknown>> | undefined;
}

export interface SubscribeOptions {
  /** Aborting unsubscribes; a pending or later `next()` rejects with `signal.reason`. */
  signal?: AbortSignal | undefined;
  /** Deadline for the server to accept the subscription (not for the stream). */
  timeoutMs?: number | undefined;
  /** Items buffered while the consumer is not pulling; overflowing ends the stream. Default 1024. */
  maxBuffered?: number | undefined;
  /** Resume after this event id (one kept from an earlier subscription): sent as `meta.lastEventId`. */
  lastEventId?: string | undefined;
  /**
   * Called when events may be missing from the stream: the server could not replay what
   * happened while the client was away (or there was no event id to resume from). Refetch what
   * the stream keeps current; the stream goes on. Called in stream order (after the items
   * received before the gap have been pulled).
   */
  onEventsMissed?: ((gap: EventsMissed) => void) | undefined;
}

/** An active subscription: iterate it with `for await`; `return()` / `unsubscribe()` stop it. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** Resolves with the server's subscription id once first accepted; rejects like the iterator would. */
  readonly ready: Promise<string>;
  /** The `eventId` of the last item received (tracked procedures only), resumed from after a reconnect. */
  readonly lastEventId: string | undefined;
  /** Adds a listener like the `onEventsMissed` option; returns a function that removes it. */
  onEventsMissed(listener: (gap: EventsMissed) => void): () => void;
  /** Stops the stream and resolves once the server acknowledged (or the socket is gone). */
  unsubscribe(): Promise<void>;
  return(): Promise<IteratorReturnResult<undefined>>;
}

/**
 * `error.data` of an `EVENTS_MISSED` signal (docs/wire.md "Resuming a subscription"): `reason`
 * `"expired"` (the id is older than the server keeps events) or `"unknown"` (the server does not
 * know it: restarted with an in-process backend, another stream; or there was no id to resume
 * from, and then no `lastEventId`).
 */
export type EventsMissedData = Extract<FrameworkErrorData, { code: "EVENTS_MISSED" }>;

/** The signal that events may be missing from a subscription: an AccordError, never thrown. */
export type EventsMissed = AccordError<EventsMissedData>;

/**
 * The client's WebSocket: `"connecting"` (a first connection is being opened), `"open"`,
 * `"reconnecting"` (a connection was lost or drained while subscriptions were live: the next
 * one is being waited for or opened), `"closed"` (no connection and none needed: before first
 * use, after `close()`, or after a loss with nothing live).
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Backoff between reconnection attempts: a random delay below `min(maxDelayMs, baseDelayMs × 2^attempt)`. */
export interface ReconnectOptions {
  /** Bound of the first delay, doubling per failed attempt. Default 100 ms. */
  baseDelayMs?: number | undefined;
  /** Largest delay. Default 5000 ms. */
  maxDelayMs?: number | undefined;
}

/** The WebSocket options of `@accord/client` (see the README). */
export interface SocketOptions {
  /** Interval of `rpc.ping` keep-alives; a socket silent for two intervals is replaced. Default 15000; `false` disables. */
  keepAliveMs?: number | false | undefined;
  /** Reconnection backoff; `false`: no reconnecting (subscriptions end with TRANSPORT when their socket does). */
  reconnect?: ReconnectOptions | false | undefined;
  /**
   * In-band credentials: called for every new connection, its value (what an `Authorization`
   * header would carry, e.g. `Bearer <token>`) goes first as `rpc.authenticate`. `null` or
   * `undefined`: none. Never in the URL.
   */
  authenticate?: (() => string | null | undefined | Promise<string | null | undefined>) | undefined;
}

/** `client.$connection`: the WebSocket's state and credentials. */
export interface Connection {
  /** The current state; see {@link ConnectionState}. */
  readonly state: ConnectionState;
  /**
   * Calls `listener` on every state change; returns a function that stops it. Bound, so
   * `useSyncExternalStore(client.$connection.onChange, () => client.$connection.state)` works.
   */
  onChange(listener: (state: ConnectionState) => void): () => void;
  /**
   * Sends the `authenticate` option's fresh value on the live connection (after a token
   * refresh) and resolves with the server's answer (`{ subject }`), or rejects with its error
   * (`UNAUTHENTICATED`). Resolves `undefined` when there is no connection (the next one sends
   * fresh credentials first anyway) or no credentials.
   */
  reauthenticate(): Promise<{ subject: string } | undefined>;
}

/** Whether `[]` (no input) is accepted: only for `input: void` procedures. */
type Args<D extends ProcedureDef, O> = [D["input"]] extends [void]
  ? [input?: undefined, options?: O]
  : [input: D["input"], options?: O];

interface ProcedureMeta<D extends ProcedureDef> {
  /** The wire method name, `namespace.method`. */
  readonly method: string;
  readonly kind: D["kind"];
  /** Whether a failed call may be sent again: true for queries and idempotent mutations. */
  readonly idempotent: boolean;
  /** True when `e` is an AccordError raised by this procedure; narrows it to its error union. */
  isError(e: unknown): e is ProcedureError<D>;
  /** Type-level only (never set): the procedure's definition, for helpers such as `@accord/tanstack-query`. */
  readonly $def?: D;
}

export type CallFn<D extends ProcedureDef> = ProcedureMeta<D> &
  ((...args: Args<D, CallOptions>) => Promise<D["output"]>);

export type SubscribeFn<D extends ProcedureDef> = ProcedureMeta<D> &
  ((...args: Args<D, SubscribeOptions>) => Subscription<D["output"]>);

export type ProcedureFn<D extends ProcedureDef> = D["kind"] extends "subscription"
  ? SubscribeFn<D>
  : CallFn<D>;

export type Namespaces<P extends ProcedureMap> = {
  readonly [N in keyof P]: { readonly [M in keyof P[N]]: ProcedureFn<P[N][M]> };
};

/** The namespaces of an HTTP-only client: queries and mutations, no subscriptions. */
export type HttpNamespaces<P extends ProcedureMap> = {
  readonly [N in keyof P]: {
    readonly [M in keyof P[N] as P[N][M]["kind"] extends "subscription" ? never : M]: CallFn<P[N][M]>;
  };
};

export interface ClientControls {
  /** Closes the shared WebSocket; live subscriptions and pending WebSocket calls fail with TRANSPORT. */
  $close(): void;
}

/** `close()` unless a namespace is called `close` (then only `$close()`, which no namespace can shadow). */
type Close<P extends ProcedureMap> = "close" extends keyof P ? unknown : { close(): void };

/** The client: one property per namespace, plus `close()`, `$close()` and `$connection`. */
export type Client<P extends ProcedureMap> = Namespaces<P> & ClientControls & { readonly $connection: Connection } & Close<P>;

/** The client of `@accord/client/http`: no subscriptions, nothing to close but kept for symmetry. */
export type HttpClient<P extends ProcedureMap> = HttpNamespaces<P> & ClientControls & Close<P>;
