// createClient: turns the generated kind table into callable namespaces, queries and mutations
// over HTTP (or the socket), subscriptions over the shared WebSocket.
import { isAccordError } from "./errors.js";
import { httpCall, type HttpConfig } from "./http.js";
import { absoluteUrl, guard, randomId, resolveFetch, resolveWebSocket, type FetchLike, type WebSocketConstructor } from "./runtime.js";
import { RpcSocket } from "./socket.js";
import { openSubscription } from "./subscription.js";
import type { CallOptions, Client, HeadersInput, KindTable, ProcedureKind, ProcedureMap, SubscribeOptions } from "./types.js";

export interface ClientOptions<P extends ProcedureMap> {
  /** http(s) URL of the server's `/rpc`. Relative URLs work in browsers only. */
  url: string;
  /** The generated `procedures` kind table; it must match `P`. */
  procedures: KindTable<P>;
  /** WebSocket URL; default: `url` with http(s) swapped for ws(s). */
  wsUrl?: string | undefined;
  /** Sent with every HTTP call; a function is called per call (e.g. for a fresh token). */
  headers?: HeadersInput | undefined;
  /** Default: the global `fetch`, looked up per call. */
  fetch?: FetchLike | undefined;
  /** Default: the global `WebSocket` (Node 20 needs `ws` or `--experimental-websocket`). */
  WebSocket?: WebSocketConstructor | undefined;
  /** Default deadline of every call and subscribe handshake, in ms. Default: none. */
  timeoutMs?: number | undefined;
  /** Where queries and mutations go. Default "http"; subscriptions always use the WebSocket. */
  transport?: "http" | "ws" | undefined;
  /** Header carrying a fresh id per HTTP call (unless the call sets it). `false` disables. */
  requestIdHeader?: string | false | undefined;
  /** Default bound of each subscription's unread items. Default 1024. */
  maxBuffered?: number | undefined;
}

const KINDS: ReadonlySet<string> = new Set<ProcedureKind>(["query", "mutation", "subscription"]);

function deriveWsUrl(url: string): string {
  let u: URL;
  try {
    u = absoluteUrl(url);
  } catch {
    throw new TypeError(`@accord/client: cannot derive a WebSocket URL from "${url}"; pass options.wsUrl`);
  }
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  return u.href;
}

function headerIn(headers: Readonly<Record<string, string>> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * Creates a client for the API described by the generated `Procedures` type:
 * `createClient<Procedures>({ url, procedures })`. The type argument is required (it cannot be
 * inferred from the kind table); without it no kind table type-checks.
 */
export function createClient<P extends ProcedureMap = never>(options: ClientOptions<NoInfer<P>>): Client<P> {
  const table = options.procedures as unknown as Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  const requestIdHeader = options.requestIdHeader ?? "x-request-id";
  const headers: HeadersInput | undefined = options.headers;
  let socket: RpcSocket | undefined;
  const getSocket = (): RpcSocket =>
    (socket ??= new RpcSocket(options.wsUrl ?? deriveWsUrl(options.url), () => resolveWebSocket(options.WebSocket)));
  let nextId = 1;

  function call(method: string, input: unknown, opts: CallOptions): Promise<unknown> {
    const { signal } = opts;
    const timeoutMs = opts.timeoutMs ?? options.timeoutMs;
    if (options.transport === "ws") return guard(method, { signal, timeoutMs }, (s) => getSocket().call(method, input, s));
    const requestId = (requestIdHeader === false ? undefined : headerIn(opts.headers, requestIdHeader)) ?? randomId();
    const cfg: HttpConfig = { url: options.url, fetch: resolveFetch(options.fetch), headers, requestIdHeader };
    return guard(method, { signal, timeoutMs, requestId }, (s) =>
      httpCall(cfg, { id: nextId++, method, input, headers: opts.headers, requestId, signal: s }),
    );
  }

  function procedure(method: string, kind: ProcedureKind): object {
    const fn =
      kind === "subscription"
        ? (input?: unknown, opts: SubscribeOptions = {}) =>
            openSubscription(getSocket(), method, input, {
              ...opts,
              timeoutMs: opts.timeoutMs ?? options.timeoutMs,
              maxBuffered: opts.maxBuffered ?? options.maxBuffered,
            })
        : (input?: unknown, opts: CallOptions = {}) => call(method, input, opts);
    const isError = (e: unknown): boolean => isAccordError(e) && e.method === method;
    return Object.freeze(Object.assign(fn, { method, kind, isError }));
  }

  const client: Record<string, unknown> = {};
  for (const [ns, methods] of Object.entries(table)) {
    const namespace: Record<string, object> = {};
    for (const [name, kind] of Object.entries(methods)) {
      if (typeof kind !== "string" || !KINDS.has(kind)) {
        throw new TypeError(`@accord/client: procedures.${ns}.${name} has unknown kind ${JSON.stringify(kind)}`);
      }
      namespace[name] = procedure(`${ns}.${name}`, kind as ProcedureKind);
    }
    client[ns] = Object.freeze(namespace);
  }
  const close = (): void => socket?.close();
  client["$close"] = close;
  if (!("close" in client)) client["close"] = close;
  return Object.freeze(client) as Client<P>;
}
