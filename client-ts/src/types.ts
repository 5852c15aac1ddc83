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
}

/** An active subscription: iterate it with `for await`; `return()` / `unsubscribe()` stop it. */
export interface Subscription<T> extends AsyncIterableIterator<T> {
  /** Resolves with the server's subscription id once accepted; rejects like the iterator would. */
  readonly ready: Promise<string>;
  /** Stops the stream and resolves once the server acknowledged (or the socket is gone). */
  unsubscribe(): Promise<void>;
  return(): Promise<IteratorReturnResult<undefined>>;
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

/** The client: one property per namespace, plus `close()` and `$close()`. */
export type Client<P extends ProcedureMap> = Namespaces<P> & ClientControls & Close<P>;

/** The client of `@accord/client/http`: no subscriptions, nothing to close but kept for symmetry. */
export type HttpClient<P extends ProcedureMap> = HttpNamespaces<P> & ClientControls & Close<P>;
