// `@accord/client`'s createClient: the core plus one shared WebSocket per client, for
// subscriptions (and for queries and mutations with `transport: "ws"`).
import { buildClient, type HttpClientOptions } from "./core.js";
import { remaining } from "./http-transport.js";
import { absoluteUrl, resolveWebSocket, type WebSocketConstructor } from "./runtime.js";
import { RpcSocket } from "./socket.js";
import { openSubscription } from "./subscription.js";
import type { Client, ProcedureMap, SubscribeOptions } from "./types.js";

export interface ClientOptions<P extends ProcedureMap> extends HttpClientOptions<P> {
  /** WebSocket URL; default: `url` with http(s) swapped for ws(s). */
  wsUrl?: string | undefined;
  /** Default: the global `WebSocket` (Node 20 needs `ws` or `--experimental-websocket`). */
  WebSocket?: WebSocketConstructor | undefined;
  /** Where queries and mutations go. Default "http"; subscriptions always use the WebSocket. */
  transport?: "http" | "ws" | undefined;
  /** Default bound of each subscription's unread items. Default 1024. */
  maxBuffered?: number | undefined;
}

function deriveWsUrl(url: string): string {
  let u: URL;
  try {
    u = absoluteUrl(url);
  } catch {
    throw new TypeError(`@accord/client: cannot derive a WebSocket URL from "${url}"; pass options.wsUrl`);
  }
  u.protocol = u.protocol.replace("http", "ws");
  return u.href;
}

/**
 * Creates a client for the API described by the generated `Procedures` type:
 * `createClient<Procedures>({ url, procedures })`. The type argument is required (it cannot be
 * inferred from the kind table); without it no kind table type-checks.
 */
export function createClient<P extends ProcedureMap = never>(options: ClientOptions<NoInfer<P>>): Client<P> {
  let socket: RpcSocket | undefined;
  const getSocket = (): RpcSocket =>
    (socket ??= new RpcSocket(options.wsUrl ?? deriveWsUrl(options.url), () => resolveWebSocket(options.WebSocket)));
  return buildClient(options, {
    call: options.transport === "ws" ? (op) => getSocket().call(op.method, op.input, op.signal, remaining(op.deadline)) : undefined,
    subscribe: (method) => (input?: unknown, opts: SubscribeOptions = {}) =>
      openSubscription(getSocket(), method, input, {
        ...opts,
        timeoutMs: opts.timeoutMs ?? options.timeoutMs,
        maxBuffered: opts.maxBuffered ?? options.maxBuffered,
      }),
    close: () => socket?.close(),
  }) as Client<P>;
}
