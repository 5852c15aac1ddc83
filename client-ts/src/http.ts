// Queries and mutations over HTTP: one JSON-RPC request per POST to /rpc.
import { transportError } from "./errors.js";
import { classify, encodeRequest, parseJson, settle } from "./protocol.js";
import type { FetchLike } from "./runtime.js";
import type { HeadersInput } from "./types.js";

export interface HttpConfig {
  url: string;
  fetch: FetchLike | undefined;
  headers: HeadersInput | undefined;
  /** Header carrying a per-call request id, or false to send none. */
  requestIdHeader: string | false;
}

export interface HttpCall {
  id: number;
  method: string;
  input: unknown;
  headers: Readonly<Record<string, string>> | undefined;
  requestId: string;
  signal: AbortSignal;
}

function lowerKeys(into: Record<string, string>, from: Readonly<Record<string, string>> | undefined): void {
  if (from) for (const [k, v] of Object.entries(from)) into[k.toLowerCase()] = v;
}

async function buildHeaders(cfg: HttpConfig, call: HttpCall): Promise<Record<string, string>> {
  // Lower-cased so a caller's "Authorization" replaces the client's "authorization".
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (cfg.requestIdHeader !== false) headers[cfg.requestIdHeader.toLowerCase()] = call.requestId;
  lowerKeys(headers, typeof cfg.headers === "function" ? await cfg.headers() : cfg.headers);
  lowerKeys(headers, call.headers);
  return headers;
}

export async function httpCall(cfg: HttpConfig, call: HttpCall): Promise<unknown> {
  const { method, signal } = call;
  if (!cfg.fetch) throw transportError(method, "no fetch implementation: pass options.fetch");
  const headers = await buildHeaders(cfg, call);
  const requestId = cfg.requestIdHeader === false ? undefined : headers[cfg.requestIdHeader.toLowerCase()];
  const body = encodeRequest(call.id, method, call.input);

  let status: number;
  let text: string;
  try {
    const res = await cfg.fetch(cfg.url, { method: "POST", headers, body, signal });
    status = res.status;
    text = await res.text();
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    throw transportError(method, `network error: ${e instanceof Error ? e.message : String(e)}`, { requestId, cause: e });
  }

  const ok = status >= 200 && status < 300;
  const parsed = parseJson(text);
  const msg = parsed === undefined ? { kind: "invalid" as const } : classify(parsed.value);
  const answersThisCall = msg.kind === "response" && (msg.id === call.id || (msg.id === null && "error" in msg.reply));
  if (msg.kind !== "response" || !answersThisCall) {
    const reason = parsed === undefined ? "reply is not JSON" : "reply is not a JSON-RPC response to this call";
    throw transportError(method, reason, { status, requestId });
  }
  const outcome = settle(msg.reply, method, { requestId, httpStatus: status });
  if (!outcome.ok) throw outcome.error;
  if (!ok) throw transportError(method, "non-2xx answer with a result", { status, requestId });
  return outcome.value;
}
