// Queries and mutations over HTTP POST. Calls that reach the transport in the same tick (before
// a `setTimeout(0)` fires) and carry the same headers travel as one JSON-RPC batch, within the
// batch bounds; a lone call goes as a plain request. Each call still settles on its own.
import { isRecord, transportError } from "./errors.js";
import type { Next, Operation } from "./link.js";
import { encodeRequest, parseJson, settle } from "./protocol.js";
import { abortReason, randomId, resolveFetch, type FetchLike } from "./runtime.js";
import type { HeadersInput } from "./types.js";

export interface BatchOptions {
  /** Most calls in one request; keep it at or below the server's batch limit (default 100 there). Default 100. */
  maxCalls?: number | undefined;
  /** Most bytes of JSON in one request (a single larger call still goes, alone). Default 512 KiB. */
  maxBytes?: number | undefined;
}

export interface HttpConfig {
  url: string;
  fetch: FetchLike | undefined;
  headers: HeadersInput | undefined;
  /** Header carrying a fresh id per HTTP request (unless the call sets it), or false. */
  requestIdHeader: string | false;
  batch: BatchOptions | false | undefined;
}

interface Queued {
  id: number;
  op: Operation;
  text: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Set once sent: settles the call on abort without waiting for the request. */
  sent?: () => void;
}

/** The header telling the server how long the client still waits (docs/wire.md). */
export const TIMEOUT_HEADER = "x-accord-timeout-ms";

/** Copies `from` into `into` with lower-cased names, so that "Authorization" replaces "authorization". */
export const lower = (into: Record<string, string>, from: Readonly<Record<string, string>> | undefined): Record<string, string> => {
  if (from) for (const k in from) into[k.toLowerCase()] = from[k] as string;
  return into;
};

/** Whole milliseconds left until `deadline`, rounded up so that the server never stops first. */
export const remaining = (deadline: number | undefined): number | undefined =>
  deadline === undefined ? undefined : Math.max(1, Math.ceil(deadline - Date.now()));

export function httpTransport(cfg: HttpConfig): Next {
  const batch = cfg.batch;
  const maxCalls = batch === false ? 1 : Math.max(1, batch?.maxCalls ?? 100);
  const maxBytes = (batch && batch.maxBytes) || 512 * 1024;
  const groups = new Map<string, Queued[]>();
  let nextId = 1;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function flush(): void {
    timer = undefined;
    for (const [key, calls] of groups) {
      groups.delete(key);
      const headers = JSON.parse(key) as Record<string, string>;
      let chunk: Queued[] = [];
      let bytes = 0;
      for (const q of calls) {
        if (chunk.length > 0 && (chunk.length >= maxCalls || bytes + q.text.length > maxBytes)) {
          void send(headers, chunk);
          chunk = [];
          bytes = 0;
        }
        chunk.push(q);
        bytes += q.text.length + 1;
      }
      if (chunk.length > 0) void send(headers, chunk);
    }
  }

  async function send(shared: Readonly<Record<string, string>>, calls: Queued[]): Promise<void> {
    const headers = { ...shared };
    const ctl = new AbortController();
    let open = calls.length;
    for (const q of calls) q.sent = () => --open || ctl.abort();
    const idHeader = cfg.requestIdHeader && cfg.requestIdHeader.toLowerCase();
    const requestId = idHeader ? (headers[idHeader] ??= randomId()) : undefined;
    // The header bounds the whole request: the longest time any of its calls still waits.
    const left = calls.map((q) => remaining(q.op.deadline));
    if (!left.includes(undefined)) headers[TIMEOUT_HEADER] = String(Math.max(...(left as number[])));
    const body = calls.length === 1 ? (calls[0] as Queued).text : `[${calls.map((q) => q.text).join(",")}]`;
    const fail = (reason: string, status?: number, cause?: unknown): void => {
      for (const q of calls) q.reject(transportError(q.op.method, reason, { status, requestId, cause }));
    };

    let status: number;
    let text: string;
    try {
      const fetch = resolveFetch(cfg.fetch);
      if (!fetch) return fail("no fetch: pass options.fetch");
      const res = await fetch(cfg.url, { method: "POST", headers, body, signal: ctl.signal });
      status = res.status;
      text = await res.text();
    } catch (e) {
      return fail(`network error: ${e instanceof Error ? e.message : String(e)}`, undefined, e);
    }

    const parsed = parseJson(text);
    const replies = parsed === undefined ? [] : Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    const byId = new Map<unknown, Record<string, unknown>>();
    for (const r of replies) if (isRecord(r) && ("result" in r || "error" in r)) byId.set(r["id"], r);
    // An error with `id: null` answers a request the server could not read: it is every call's.
    const whole = byId.get(null);
    for (const q of calls) {
      const reply = byId.get(q.id) ?? (whole && "error" in whole ? whole : undefined);
      const ctx = { requestId, httpStatus: status };
      if (!reply) {
        q.reject(transportError(q.op.method, parsed ? "no JSON-RPC reply to this call" : "reply is not JSON", { status, requestId }));
        continue;
      }
      const outcome = settle(reply, q.op.method, ctx);
      if (!outcome.ok) q.reject(outcome.error);
      else if (status > 299 || status < 200) q.reject(transportError(q.op.method, "a result with a non-2xx status", { status, requestId }));
      else q.resolve(outcome.value);
    }
  }

  return async (op) => {
    const headers = lower({ "content-type": "application/json", accept: "application/json" }, typeof cfg.headers === "function" ? await cfg.headers() : cfg.headers);
    lower(headers, op.headers);
    const { signal } = op;
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const id = nextId++;
      // A lone request carries its deadline in the header; batch entries also in `meta`.
      const q: Queued = { id, op, text: encodeRequest(id, op.method, op.input, maxCalls > 1 ? remaining(op.deadline) : undefined), resolve, reject };
      const key = JSON.stringify(headers);
      const group = groups.get(key) ?? [];
      groups.set(key, group);
      group.push(q);
      const onAbort = (): void => {
        const i = group.indexOf(q);
        if (i >= 0) group.splice(i, 1); // still queued: it never leaves
        q.sent?.();
        reject(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      q.resolve = (v) => (signal.removeEventListener("abort", onAbort), resolve(v));
      q.reject = (e) => (signal.removeEventListener("abort", onAbort), reject(e));
      timer ??= setTimeout(flush, 0);
    });
  };
}
