// `@accord/client`'s createClient: the core plus one shared, self-healing WebSocket per client,
// for subscriptions (and for queries and mutations with `transport: "ws"`).
import { buildClient, type HttpClientOptions } from "./core.js";
import { remaining } from "./http-transport.js";
import { absoluteUrl, resolveWebSocket, type WebSocketConstructor } from "./runtime.js";
import { RpcSocket } from "./socket.js";
import { openSubscription } from "./subscription.js";
import type { Client, Connection, ProcedureMap, SocketOptions, SubscribeOptions } from "./types.js";

export interface ClientOptions<P extends ProcedureMap> extends HttpClientOptions<P>, SocketOptions {
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
  // Made now (it connects on first use), so that `$connection` can be watched before that.
  const socket = new RpcSocket(
    () => options.wsUrl ?? deriveWsUrl(options.url),
    () => resolveWebSocket(options.WebSocket),
    options,
  );
  const $connection: Connection = {
    get state() {
      return socket.state;
    },
    onChange: socket.onChange,
    reauthenticate: () => socket.reauthenticate() as Promise<{ subject: string } | undefined>,
  };
  const client = buildClient(options, {
    call: options.transport === "ws" ? (op) => socket.call(op.method, op.input, op.signal, remaining(op.deadline)) : undefined,
    subscribe: (method) => (input?: unknown, opts: SubscribeOptions = {}) =>
      openSubscription(socket, method, input, {
        ...opts,
        timeoutMs: opts.timeoutMs ?? options.timeoutMs,
        maxBuffered: opts.maxBuffered ?? options.maxBuffered,
      }),
    close: () => socket.close(),
  });
  return Object.freeze({ ...client, $connection }) as Client<P>;
}
