// What both entry points export besides createClient.
export {
  AccordError,
  isAccordError,
  type AccordErrorConstructor,
  type AccordErrorInit,
  type ErrorData,
} from "./errors.js";
export { RPC_CODES, type FrameworkErrorCode, type FrameworkErrorData, type Violation } from "./framework.js";
export type { BatchOptions } from "./http-transport.js";
export type { Link, Next, Operation } from "./link.js";
export { isRetryable, retryLink, type RetryOptions } from "./retry.js";
export type { FetchInit, FetchLike, ResponseLike } from "./runtime.js";
export type {
  CallFn,
  CallOptions,
  ClientControls,
  DomainErrorOf,
  ErrorOf,
  HeadersInput,
  HttpClient,
  HttpNamespaces,
  InputOf,
  KindEntry,
  KindTable,
  OutputOf,
  ProcedureDef,
  ProcedureError,
  ProcedureFn,
  ProcedureKind,
  ProcedureMap,
} from "./types.js";
