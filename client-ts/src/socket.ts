// One lazily opened WebSocket per client, multiplexing calls and subscriptions by JSON-RPC id.
import { fromWireError, transportError, type AccordError } from "./errors.js";
import { classify, encodeRequest, parseJson, settle, type Incoming, type RpcId } from "./protocol.js";
import type { WebSocketConstructor, WebSocketLike } from "./runtime.js";

/**
 * Receives a subscription's life: `accepted` (synchronously, before any item), items, and one
 * `end` (`null` = completed; an error also when the subscribe request itself failed).
 */
export interface SubscriptionSink {
  accepted(subscription: RpcId): void;
  item(value: unknown): void;
  end(error: AccordError | null): void;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: AccordError): void;
  /** Set for subscribe requests: where the stream goes once the server accepts. */
  sink?: SubscriptionSink;
}

type StreamMessage = Extract<Incoming, { kind: "item" | "end" }>;

/**
 * Notifications for ids we do not know yet, kept while a subscribe request is in flight
 * (a server may send items before our reply is processed). Oldest are dropped past this.
 */
export const MAX_EARLY_NOTIFICATIONS = 256;

const OPEN = 1;

export class RpcSocket {
  readonly #url: string;
  readonly #ctor: () => WebSocketConstructor | undefined;
  #ws: WebSocketLike | undefined;
  #outbox: string[] = [];
  readonly #pending = new Map<RpcId, Pending>();
  readonly #subs = new Map<string, { method: string; sink: SubscriptionSink }>();
  #early: StreamMessage[] = [];
  #nextId = 1;

  constructor(url: string, ctor: () => WebSocketConstructor | undefined) {
    this.#url = url;
    this.#ctor = ctor;
  }

  /** A call; `timeoutMs` travels as `meta.timeoutMs` so that the server stops when the caller does. */
  call(method: string, params: unknown, signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const onAbort = (): void => {
        this.#pending.delete(id);
        reject(signal?.reason);
      };
      const done = (): void => signal?.removeEventListener("abort", onAbort);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#send(id, params, timeoutMs, {
        method,
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
      });
    });
  }

  /** Sends a subscribe request; the outcome arrives through `sink`. */
  subscribe(method: string, params: unknown, sink: SubscriptionSink): void {
    const id = this.#nextId++;
    this.#send(id, params, undefined, { method, resolve: () => undefined, reject: (e) => sink.end(e), sink });
  }

  /** Stops delivering the stream and asks the server to end it; never rejects. */
  unsubscribe(method: string, subscription: RpcId): Promise<void> {
    const key = String(subscription);
    this.#subs.delete(key);
    this.#early = this.#early.filter((m) => String(m.subscription) !== key);
    // Without a live connection the server has dropped the subscription already.
    if (!this.#ws || this.#ws.readyState > OPEN) return Promise.resolve();
    return this.call(`${method}.unsubscribe`, [subscription]).then(
      () => undefined,
      () => undefined,
    );
  }

  close(reason = "closed by the client"): void {
    this.#teardown(reason);
  }

  #send(id: RpcId, params: unknown, timeoutMs: number | undefined, pending: Pending): void {
    const { method } = pending;
    let ws: WebSocketLike;
    try {
      ws = this.#ensure();
    } catch (e) {
      return pending.reject(transportError(method, e instanceof Error ? e.message : String(e), { cause: e }));
    }
    const text = encodeRequest(id, method, params, timeoutMs);
    this.#pending.set(id, pending);
    if (ws.readyState !== OPEN) {
      this.#outbox.push(text);
      return;
    }
    try {
      ws.send(text);
    } catch (e) {
      this.#pending.delete(id);
      pending.reject(transportError(method, `WebSocket send failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    }
  }

  #ensure(): WebSocketLike {
    if (this.#ws && this.#ws.readyState <= OPEN) return this.#ws;
    if (this.#ws) this.#teardown("WebSocket closed");
    const Ctor = this.#ctor();
    if (!Ctor) throw new Error("no WebSocket implementation: pass options.WebSocket");
    const ws = new Ctor(this.#url);
    this.#ws = ws;
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      const out = this.#outbox;
      this.#outbox = [];
      try {
        for (const text of out) ws.send(text);
      } catch (e) {
        this.#teardown(`WebSocket send failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    ws.onmessage = (ev) => {
      if (this.#ws === ws) this.#receive(ev.data);
    };
    ws.onerror = (ev) => {
      const detail = typeof ev === "object" && ev !== null && "message" in ev && typeof ev.message === "string" ? `: ${ev.message}` : "";
      if (this.#ws === ws) this.#teardown(`WebSocket error${detail}`);
    };
    ws.onclose = (ev) => {
      if (this.#ws === ws) this.#teardown(`WebSocket closed (code ${ev.code}${ev.reason ? `, ${ev.reason}` : ""})`);
    };
    return ws;
  }

  /** Fails everything in flight: calls and subscriptions do not survive their socket. */
  #teardown(reason: string): void {
    const ws = this.#ws;
    this.#ws = undefined;
    this.#outbox = [];
    this.#early = [];
    const pending = [...this.#pending.values()];
    const subs = [...this.#subs.values()];
    this.#pending.clear();
    this.#subs.clear();
    for (const p of pending) p.reject(transportError(p.method, reason));
    for (const s of subs) s.sink.end(transportError(s.method, reason));
    try {
      ws?.close();
    } catch {
      // already closing; nothing else to release
    }
  }

  #receive(data: unknown): void {
    const text = typeof data === "string" ? data : decode(data);
    const parsed = text === undefined ? undefined : parseJson(text);
    if (!parsed) return; // not attributable to any call; their timeouts cover a broken server
    const messages: unknown[] = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    for (const m of messages) this.#dispatch(classify(m));
  }

  #dispatch(msg: Incoming): void {
    if (msg.kind === "response") return this.#settle(msg.id, msg.reply);
    if (msg.kind === "invalid") return;
    const key = String(msg.subscription);
    const sub = this.#subs.get(key);
    if (sub) {
      if (msg.kind === "item") return sub.sink.item(msg.item);
      this.#subs.delete(key);
      return sub.sink.end(msg.error === null ? null : fromWireError(msg.error, sub.method));
    }
    if (![...this.#pending.values()].some((p) => p.sink)) return; // late, for an ended stream
    this.#early.push(msg);
    if (this.#early.length > MAX_EARLY_NOTIFICATIONS) this.#early.shift();
  }

  #settle(id: RpcId | null, reply: Record<string, unknown>): void {
    const p = id === null ? undefined : this.#pending.get(id);
    if (!p || id === null) return;
    this.#pending.delete(id);
    const outcome = settle(reply, p.method);
    if (!outcome.ok) return p.reject(outcome.error);
    if (!p.sink) return p.resolve(outcome.value);
    const subId = outcome.value;
    if (typeof subId !== "string" && (typeof subId !== "number" || !Number.isFinite(subId))) {
      return p.reject(transportError(p.method, "subscription id is neither a string nor a number"));
    }
    const key = String(subId);
    this.#subs.set(key, { method: p.method, sink: p.sink });
    p.sink.accepted(subId);
    const mine = (m: StreamMessage): boolean => String(m.subscription) === key;
    const early = this.#early.filter(mine);
    this.#early = this.#early.filter((m) => !mine(m));
    for (const m of early) if (this.#subs.has(key)) this.#dispatch(m);
  }
}

function decode(data: unknown): string | undefined {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return undefined;
}
