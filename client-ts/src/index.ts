// Public entry point of @accord/client.
export { createClient, type ClientOptions } from "./client.js";
export {
  AccordError,
  isAccordError,
  RPC_CODES,
  type AccordErrorConstructor,
  type AccordErrorInit,
  type ErrorData,
  type FrameworkErrorCode,
  type FrameworkErrorData,
} from "./errors.js";
export type { FetchInit, FetchLike, ResponseLike, WebSocketConstructor, WebSocketLike } from "./runtime.js";
export { MAX_EARLY_NOTIFICATIONS } from "./socket.js";
export { DEFAULT_MAX_BUFFERED } from "./subscription.js";
export { isTraceparent, newTraceContext, traceHeaders, traceLink, type TraceContext, type TraceSource } from "./tracing.js";
export type {
  CallFn,
  CallOptions,
  Client,
  ClientControls,
  DomainErrorOf,
  ErrorOf,
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
  SubscribeFn,
  SubscribeOptions,
  Subscription,
} from "./types.js";
