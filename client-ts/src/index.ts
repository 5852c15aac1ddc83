// Entry point of @accord/client: queries and mutations over HTTP, subscriptions over WebSocket.
export * from "./shared.js";
export { createClient, type ClientOptions } from "./client.js";
export type { HttpClientOptions } from "./core.js";
export type { WebSocketConstructor, WebSocketLike } from "./runtime.js";
export { MAX_EARLY_NOTIFICATIONS } from "./socket.js";
export { DEFAULT_MAX_BUFFERED } from "./subscription.js";
export { isTraceparent, newTraceContext, traceHeaders, traceLink, type TraceContext, type TraceSource } from "./tracing.js";
export type {
  CallFn,
  CallOptions,
  Client,
  ClientControls,
  Connection,
  ConnectionState,
  DomainErrorOf,
  ErrorOf,
  EventsMissed,
  EventsMissedData,
  HeadersInput,
  InputOf,
  KindTable,
  Namespaces,
  OutputOf,
  ProcedureDef,
  ProcedureError,
  ProcedureFn,
  ProcedureKind,
  ProcedureMap,
  ReconnectOptions,
  SocketOptions,
  SubscribeFn,
  SubscribeOptions,
  Subscription,
} from "./types.js";
