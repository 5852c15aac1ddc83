// The client without its transports' specifics: turns the generated kind table into callable
// namespaces and runs every query and mutation through the chain (retry link, your links,
// transport) under the caller's signal and deadline. `@accord/client` adds the WebSocket to it;
// `@accord/client/http` uses it as it is, so an HTTP-only app ships no WebSocket code.
import { isAccordError } from "./errors.js";
import { httpTransport, lower, type BatchOptions } from "./http-transport.js";
import { chain, type Link, type Next, type Operation } from "./link.js";
import { retryLink, type RetryOptions } from "./retry.js";
import { effectiveTimeout, guard, type FetchLike } from "./runtime.js";
import type { CallOptions, HeadersInput, KindTable, ProcedureKind, ProcedureMap } from "./types.js";

/** The options of `@accord/client/http`'s `createClient` (and the HTTP part of `@accord/client`'s). */
export interface HttpClientOptions<P extends ProcedureMap> {
  /** http(s) URL of the server's `/rpc`. Relative URLs work in browsers only. */
  url: string;
  /** The generated `procedures` kind table; it must match `P`. */
  procedures: KindTable<P>;
  /** Sent with every HTTP request; a function is called per request (e.g. for a fresh token). */
  headers?: HeadersInput | undefined;
  /** Default: the global `fetch`, looked up per request. */
  fetch?: FetchLike | undefined;
  /** Default deadline of every call (retries included) and subscribe handshake, in ms. Default: none. */
  timeoutMs?: number | undefined;
  /** Header carrying a fresh id per HTTP request (unless the call sets it). `false` disables. */
  requestIdHeader?: string | false | undefined;
  /** Same-tick batching of HTTP calls (on by default); `false` sends one request per call. */
  batch?: BatchOptions | false | undefined;
  /** Retries of queries and idempotent mutations (on by default); `false` turns them off. */
  retry?: RetryOptions | false | undefined;
  /** Your links, in order, between the retry link and the transport. */
  links?: readonly Link[] | undefined;
}

/** What `@accord/client` plugs into the core for WebSockets. */
export interface SocketPlugin {
  /** Sends queries and mutations over the socket instead of HTTP (`transport: "ws"`). */
  call?: Next | undefined;
  /** Makes a subscription function. */
  subscribe(method: string): (input?: unknown, opts?: never) => unknown;
  close(): void;
}

const KINDS: ReadonlySet<string> = new Set(["query", "mutation", "mutation:idempotent", "subscription"]);

export function buildClient<P extends ProcedureMap>(options: HttpClientOptions<P>, socket?: SocketPlugin): object {
  const table = options.procedures as unknown as Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  const transport =
    socket?.call ??
    httpTransport({
      url: options.url,
      fetch: options.fetch,
      headers: options.headers,
      requestIdHeader: options.requestIdHeader ?? "x-request-id",
      batch: options.batch,
    });
  const links = options.retry === false ? [] : [retryLink(options.retry)];
  const run = chain([...links, ...(options.links ?? [])], transport);

  function call(method: string, kind: Operation["kind"], idempotent: boolean, input: unknown, opts: CallOptions = {}): Promise<unknown> {
    const timeoutMs = effectiveTimeout(opts.timeoutMs ?? options.timeoutMs);
    const headers = lower({}, opts.headers);
    return guard(method, { signal: opts.signal, timeoutMs, requestId: headers["x-request-id"] }, (signal) =>
      run({
        method,
        kind,
        idempotent,
        input,
        headers,
        signal,
        deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
        attempt: 1,
        retry: opts.retry,
        context: opts.context ?? {},
      }),
    );
  }

  const client: Record<string, unknown> = {};
  for (const ns in table) {
    const namespace: Record<string, object> = {};
    const methods = table[ns] as Readonly<Record<string, unknown>>;
    for (const name in methods) {
      const entry = methods[name];
      if (typeof entry !== "string" || !KINDS.has(entry)) {
        throw new TypeError(`@accord/client: procedures.${ns}.${name} has unknown kind ${JSON.stringify(entry)}`);
      }
      const method = `${ns}.${name}`;
      const kind = entry.slice(0, 8) === "mutation" ? "mutation" : (entry as ProcedureKind);
      const idempotent = kind === "query" || entry !== kind;
      let fn: object | undefined;
      if (kind !== "subscription") fn = (input?: unknown, opts?: CallOptions) => call(method, kind, idempotent, input, opts);
      else if (socket) fn = socket.subscribe(method);
      const isError = (e: unknown): boolean => isAccordError(e) && e.method === method;
      if (fn) namespace[name] = Object.freeze(Object.assign(fn, { method, kind, idempotent, isError }));
    }
    client[ns] = Object.freeze(namespace);
  }
  const close = (): void => socket?.close();
  client["$close"] = close;
  if (!("close" in client)) client["close"] = close;
  return Object.freeze(client);
}
