// JSON-RPC 2.0 framing shared by the HTTP and WebSocket transports: encoding requests and
// classifying replies without trusting their shape.
import { fromWireError, isRecord, transportError, type AccordError } from "./errors.js";

export type RpcId = number | string;

/**
 * One request's text. `undefined` params mean "no input" and are left out (wire.md "Params");
 * `timeoutMs` becomes `"meta": {"timeoutMs": ...}`, the per-call deadline a WebSocket or batch
 * entry carries.
 */
export function encodeRequest(id: RpcId, method: string, params: unknown, timeoutMs?: number): string {
  const meta = timeoutMs === undefined ? undefined : { timeoutMs };
  return JSON.stringify({ jsonrpc: "2.0", id, method, params, meta });
}

export type Incoming =
  | { kind: "response"; id: RpcId | null; reply: Record<string, unknown> }
  | { kind: "item"; subscription: RpcId; item: unknown; eventId: string | undefined }
  | { kind: "missed"; subscription: RpcId; missed: unknown }
  | { kind: "end"; subscription: RpcId; error: unknown }
  | { kind: "invalid" };

/** A usable JSON-RPC id (or subscription id): a string or a finite number. */
export function isId(v: unknown): v is RpcId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/** Sorts one parsed message into a response, a subscription item (with its event id), a gap marker, a stream end, or junk. */
export function classify(msg: unknown): Incoming {
  if (!isRecord(msg)) return { kind: "invalid" };
  if ("id" in msg && ("result" in msg || "error" in msg)) {
    const id = msg["id"];
    return isId(id) || id === null ? { kind: "response", id, reply: msg } : { kind: "invalid" };
  }
  const params = msg["params"];
  if (typeof msg["method"] === "string" && isRecord(params) && isId(params["subscription"])) {
    const subscription = params["subscription"];
    if ("result" in params) {
      const eventId = params["eventId"];
      return { kind: "item", subscription, item: params["result"], eventId: typeof eventId === "string" ? eventId : undefined };
    }
    if ("missed" in params) return { kind: "missed", subscription, missed: params["missed"] };
    if ("error" in params) return { kind: "end", subscription, error: params["error"] };
  }
  return { kind: "invalid" };
}

export type Settled = { ok: true; value: unknown } | { ok: false; error: AccordError };

/** The outcome of a response object: its result, or its error as an AccordError. */
export function settle(
  reply: Record<string, unknown>,
  method: string,
  ctx: { requestId?: string | undefined; httpStatus?: number | undefined } = {},
): Settled {
  if ("error" in reply && reply["error"] !== undefined && reply["error"] !== null) {
    return { ok: false, error: fromWireError(reply["error"], method, ctx) };
  }
  if ("result" in reply) return { ok: true, value: reply["result"] };
  return {
    ok: false,
    error: transportError(method, "reply has neither result nor error", { status: ctx.httpStatus, requestId: ctx.requestId }),
  };
}

/** Parses a frame or body; undefined when it is not JSON. */
export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
