// AccordError and the mapping from wire error objects (docs/wire.md "Errors") to it. The
// framework's codes and `data` shapes come from ./framework.ts, generated from the Rust definitions.
import { RPC_CODE_ALIASES, RPC_CODES } from "./framework.js";

/** What every `error.data` has: the stable machine code to switch on. */
export interface ErrorData {
  code: string;
}

// Errors without `data.code` (a server or proxy that answered before Accord saw the request).
const CODE_BY_RPC_CODE: ReadonlyMap<number, string> = new Map([
  ...Object.entries(RPC_CODES).map(([k, v]): [number, string] => [v, k]),
  ...RPC_CODE_ALIASES,
]);

const BRAND = Symbol.for("@accord/client.AccordError");

export interface AccordErrorInit<D extends ErrorData> {
  message: string;
  rpcCode: number;
  data: D;
  method: string;
  requestId?: string | undefined;
  httpStatus?: number | undefined;
  cause?: unknown;
}

class AccordErrorClass<D extends ErrorData = ErrorData> extends Error {
  /** `error.data.code`: the stable machine code. */
  readonly code: D["code"];
  /** `error.code`: the JSON-RPC number. */
  readonly rpcCode: number;
  /** `error.data`: the code and the variant's typed fields (and `requestId` when known). */
  readonly data: D & { readonly requestId?: string };
  /** The wire method of the failed call, `namespace.method`. */
  readonly method: string;
  /** The server's request id (from `data.requestId`), else the `x-request-id` the client sent. */
  readonly requestId: string | undefined;
  /** The HTTP status, when the error came over HTTP. */
  readonly httpStatus: number | undefined;

  constructor(init: AccordErrorInit<D>) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "AccordError";
    this.code = init.data.code;
    this.rpcCode = init.rpcCode;
    this.data = init.data;
    this.method = init.method;
    this.requestId = init.requestId;
    this.httpStatus = init.httpStatus;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * A failed call. `AccordError<D>` is a union with one member per variant of `D`, so
 * `switch (e.code)` narrows `e.data` to that variant's fields.
 */
export type AccordError<D extends ErrorData = ErrorData> = D extends ErrorData
  ? AccordErrorClass<D>
  : never;

export interface AccordErrorConstructor {
  new <D extends ErrorData>(init: AccordErrorInit<D>): AccordErrorClass<D>;
  readonly prototype: AccordErrorClass;
}

export const AccordError: AccordErrorConstructor = AccordErrorClass;

/** True for any AccordError, also one made by another copy of this package. */
export function isAccordError(e: unknown): e is AccordError {
  return e instanceof AccordErrorClass || (typeof e === "object" && e !== null && BRAND in e);
}

export function transportError(
  method: string,
  reason: string,
  extra: { status?: number | undefined; requestId?: string | undefined; cause?: unknown } = {},
): AccordError<{ code: "TRANSPORT"; status?: number; reason: string }> {
  const data: { code: "TRANSPORT"; status?: number; reason: string } = { code: "TRANSPORT", reason };
  if (extra.status !== undefined) data.status = extra.status;
  return new AccordError({
    message: extra.status === undefined ? reason : `HTTP ${extra.status}: ${reason}`,
    rpcCode: RPC_CODES.TRANSPORT,
    data,
    method,
    requestId: extra.requestId,
    httpStatus: extra.status,
    cause: extra.cause,
  });
}

export function timeoutError(method: string, timeoutMs: number, requestId?: string): AccordError<{ code: "TIMEOUT"; timeoutMs: number }> {
  return new AccordError({
    message: `${method} timed out after ${timeoutMs} ms`,
    rpcCode: RPC_CODES.TIMEOUT,
    data: { code: "TIMEOUT", timeoutMs },
    method,
    requestId,
  });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Turns a wire error object into an AccordError; a malformed one becomes TRANSPORT. */
export function fromWireError(
  raw: unknown,
  method: string,
  ctx: { requestId?: string | undefined; httpStatus?: number | undefined } = {},
): AccordError {
  if (!isRecord(raw) || typeof raw["code"] !== "number" || !Number.isFinite(raw["code"])) {
    return transportError(method, "malformed error object in the reply", { status: ctx.httpStatus, requestId: ctx.requestId });
  }
  const rpcCode = raw["code"];
  const message = typeof raw["message"] === "string" ? raw["message"] : `error ${rpcCode}`;
  const rawData = raw["data"];
  const code =
    isRecord(rawData) && typeof rawData["code"] === "string"
      ? rawData["code"]
      : (CODE_BY_RPC_CODE.get(rpcCode) ?? "INTERNAL");
  const data: ErrorData & Record<string, unknown> = isRecord(rawData) ? { ...rawData, code } : { code };
  const serverRequestId = typeof data["requestId"] === "string" ? data["requestId"] : undefined;
  return new AccordError({
    message,
    rpcCode,
    data,
    method,
    requestId: serverRequestId ?? ctx.requestId,
    httpStatus: ctx.httpStatus,
  });
}
