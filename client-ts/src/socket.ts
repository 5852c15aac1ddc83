// The client's WebSocket: one connection at a time, opened lazily, multiplexing calls and
// subscriptions by JSON-RPC id, and kept alive across failures. `rpc.ping`s detect a dead socket,
// a lost or draining one is replaced (exponential backoff with full jitter, capped), credentials
// go first on every connection (`rpc.authenticate`), and every live subscription is subscribed
// again with its last event id (`meta.lastEventId`), so the caller's loop never notices.
import { AccordError, fromWireError, transportError } from "./errors.js";
import type { Operation } from "./link.js";
import { classify, isId, parseJson, settle, type Incoming, type RpcId, type Settled } from "./protocol.js";
import { isRetryable } from "./retry.js";
import type { WebSocketConstructor, WebSocketLike } from "./runtime.js";
import type { ConnectionState, EventsMissed, SocketOptions } from "./types.js";

/**
 * Receives a subscription's life: `accepted` (before any item, again after each resubscribe),
 * items, gaps the server could not replay, and one `end` (`null` = completed).
 */
export interface SubscriptionSink {
  accepted(subscription: RpcId): void;
  item(value: unknown): void;
  missed(gap: EventsMissed): void;
  end(error: AccordError | null): void;
}

/** A subscription as the socket keeps it, from one connection to the next. */
export interface LiveSubscription {
  readonly method: string;
  readonly params: unknown;
  readonly sink: SubscriptionSink;
  /** The `eventId` of the last item, sent as `meta.lastEventId` when subscribing again. */
  last: string | undefined;
  /** The connection its subscribe went out on; unset while it waits for the next one. */
  conn?: Channel | undefined;
  /** The server's id for it on `conn`, once accepted there. */
  id?: string | undefined;
  /** Accepted once already: the next acceptance is a resubscribe. */
  acked?: boolean;
  /** Resubscribes refused in a row: the backoff's exponent. */
  tries: number;
  /** Set by unsubscribe() while its subscribe is in flight: runs once the server side is gone. */
  gone?: (() => void) | undefined;
}

type StreamMessage = Extract<Incoming, { subscription: RpcId }>;

/** One WebSocket (one connection attempt) and what travels on it. */
interface Channel {
  ws?: WebSocketLike;
  /** Open, credentials sent: requests go straight out. */
  open?: boolean;
  dead?: boolean;
  /** A message arrived since the last keep-alive tick. */
  heard?: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Requests waiting for the socket to open. */
  out: string[];
  /** Its accepted subscriptions, by the server's id. */
  subs: Map<string, LiveSubscription>;
  /** Notifications for ids not known yet (a subscribe reply still on its way). */
  early: StreamMessage[];
}

interface Pending {
  method: string;
  conn: Channel;
  /** A call's outcome; unset for subscribe requests. */
  settle?: (outcome: Settled) => void;
  sub?: LiveSubscription;
}

/**
 * Notifications for ids we do not know yet, kept while a subscribe request is in flight
 * (a server may send items before our reply is processed). Oldest are dropped past this.
 */
export const MAX_EARLY_NOTIFICATIONS = 256;

const frame = (id: RpcId, method: string, params?: unknown, meta?: object): string =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params, meta });

/** Calls `fn`; an exception it throws is reported on its own, without breaking the socket's bookkeeping. */
export function emit<A>(fn: (arg: A) => unknown, arg: A): void {
  try {
    fn(arg);
  } catch (e) {
    setTimeout(() => {
      throw e;
    });
  }
}

export class RpcSocket {
  readonly #url: () => string;
  readonly #ctor: () => WebSocketConstructor | undefined;
  readonly #opts: SocketOptions;
  /** Where new requests go; a draining connection is no longer it but lives on for its calls. */
  #conn: Channel | undefined;
  readonly #pending = new Map<RpcId, Pending>();
  readonly #subs = new Set<LiveSubscription>();
  readonly #listeners = new Set<(state: ConnectionState) => void>();
  #state: ConnectionState = "closed";
  #nextId = 1;
  /** Connection attempts since the last success: the backoff's exponent. */
  #attempt = 0;

  constructor(url: () => string, ctor: () => WebSocketConstructor | undefined, opts: SocketOptions) {
    this.#url = url;
    this.#ctor = ctor;
    this.#opts = opts;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  readonly onChange = (listener: (state: ConnectionState) => void): (() => void) => {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  };

  /** A call; `timeoutMs` travels as `meta.timeoutMs` so that the server stops when the caller does. */
  call(method: string, params: unknown, signal?: AbortSignal, timeoutMs?: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const onAbort = (): void => {
        this.#pending.delete(id);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (o: Settled): void => {
        signal?.removeEventListener("abort", onAbort);
        if (o.ok) resolve(o.value);
        else reject(o.error);
      };
      const c = this.#use(method, (error) => done({ ok: false, error }));
      if (c) this.#send(c, id, frame(id, method, params, timeoutMs === undefined ? undefined : { timeoutMs }), { method, conn: c, settle: done });
    });
  }

  /** Sends fresh credentials on the current connection; undefined when there is none (the next one sends them first). */
  async reauthenticate(): Promise<unknown> {
    const authorization = this.#conn && (await this.#opts.authenticate?.());
    return authorization == null ? undefined : this.call("rpc.authenticate", { authorization });
  }

  /** Subscribes; the outcome arrives through `sink`, and the subscription lives on across connections. */
  subscribe(method: string, params: unknown, sink: SubscriptionSink, last: string | undefined): LiveSubscription {
    const sub: LiveSubscription = { method, params, sink, last, tries: 0 };
    const c = this.#use(method, (error) => sink.end(error));
    if (c) this.#subscribe(c, sub);
    return sub;
  }

  /** Stops delivering the stream and asks the server to end it; never rejects. */
  unsubscribe(sub: LiveSubscription): Promise<void> {
    this.#subs.delete(sub);
    const c = sub.conn;
    if (!c || c.dead) return Promise.resolve(); // the server dropped it with its connection
    if (sub.id === undefined) return new Promise((resolve) => (sub.gone = resolve)); // see #accept
    c.subs.delete(sub.id);
    return this.#unsubscribe(c, sub, sub.id);
  }

  /** Ends every subscription and call with TRANSPORT and closes the socket; a later use opens a new one. */
  close(reason = "closed by the client"): void {
    for (const s of this.#subs) s.sink.end(transportError(s.method, reason));
    this.#subs.clear();
    // Every live connection is the current one or has calls in flight (see #retire).
    if (this.#conn) this.#lost(this.#conn, reason);
    for (const p of this.#pending.values()) this.#lost(p.conn, reason);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) emit(listener, state);
  }

  /** The current connection, made if need be; undefined (after `fail`) when none can be made. */
  #use(method: string, fail: (error: AccordError) => void): Channel | undefined {
    try {
      return this.#conn ?? this.#connect(false);
    } catch (e) {
      fail(transportError(method, String(e), { cause: e }));
      return undefined;
    }
  }

  #send(c: Channel, id: RpcId, message: string, pending: Pending): void {
    this.#pending.set(id, pending);
    if (c.open) this.#write(c, message);
    else c.out.push(message);
  }

  #write(c: Channel, message: string): void {
    try {
      c.ws?.send(message);
    } catch (e) {
      this.#lost(c, `WebSocket error ${String(e)}`);
    }
  }

  /** Sends (or queues) `sub`'s subscribe on `c`; throws, having changed nothing, when its input cannot be encoded. */
  #subscribe(c: Channel, sub: LiveSubscription): void {
    const id = this.#nextId++;
    const message = frame(id, sub.method, sub.params, sub.last === undefined ? undefined : { lastEventId: sub.last });
    this.#subs.add(sub);
    sub.conn = c;
    sub.id = undefined;
    this.#send(c, id, message, { method: sub.method, conn: c, sub });
  }

  #unsubscribe(c: Channel, sub: LiveSubscription, id: RpcId): Promise<void> {
    const callId = this.#nextId++;
    return new Promise((resolve) => {
      this.#send(c, callId, frame(callId, `${sub.method}.unsubscribe`, [id]), { method: sub.method, conn: c, settle: () => resolve() });
    });
  }

  /**
   * A new connection: at once for a first use (throwing when no socket can be made), after a
   * backoff when it replaces a lost one.
   */
  #connect(again: boolean): Channel {
    const Ctor = this.#ctor();
    if (!Ctor) throw new Error("no WebSocket implementation: pass options.WebSocket");
    const c: Channel = { out: [], subs: new Map(), early: [] };
    const start = (): void => this.#wire(c, new Ctor(this.#url()));
    if (again) {
      const delay = this.#backoff(this.#attempt++);
      c.timer = setTimeout(() => {
        try {
          start();
        } catch (e) {
          this.#lost(c, String(e));
        }
      }, delay);
    } else start();
    this.#conn = c;
    this.#setState(again ? "reconnecting" : "connecting");
    return c;
  }

  /** Exponential backoff with full jitter: a random delay below `min(maxDelayMs, baseDelayMs × 2^attempt)`. */
  #backoff(attempt: number): number {
    const r = this.#opts.reconnect || {};
    return Math.random() * Math.min(r.maxDelayMs ?? 5000, 2 ** 30, (r.baseDelayMs ?? 100) * 2 ** attempt);
  }

  #wire(c: Channel, ws: WebSocketLike): void {
    c.ws = ws;
    c.heard = true;
    this.#keepAlive(c);
    ws.onopen = () => void this.#opened(c);
    ws.onmessage = (ev) => this.#receive(c, ev.data);
    // `ws` (Node) gives its errors a message, browsers do not.
    ws.onerror = (ev) => this.#lost(c, `WebSocket error ${(ev as { message?: unknown } | null)?.message ?? ""}`);
    ws.onclose = (ev) => this.#lost(c, `WebSocket closed (code ${ev.code}${ev.reason ? `, ${ev.reason}` : ""})`);
  }

  /**
   * Every interval: a connection that received nothing since the previous tick is dead (so a
   * silent one is found within two intervals, a hung handshake too); otherwise it is pinged.
   */
  #keepAlive(c: Channel): void {
    // `false` or out of range (past 2^31 - 1 ms timers fire at once): none. Defaults are inline: bytes count.
    const ms = (this.#opts.keepAliveMs ?? 15_000) as number;
    if (!(ms > 0 && ms < 2 ** 31)) return;
    c.timer = setTimeout(() => {
      if (!c.heard) return this.#lost(c, "keep-alive timeout");
      c.heard = false;
      this.#keepAlive(c); // first: a failed write below clears it
      if (c.open) this.#write(c, frame(this.#nextId++, "rpc.ping"));
    }, ms);
  }

  /** Open: the credentials first, then what waited, then the subscriptions that lost their connection. */
  async #opened(c: Channel): Promise<void> {
    c.heard = true; // the credentials get their own keep-alive interval
    let authorization: string | null | undefined;
    try {
      authorization = await this.#opts.authenticate?.();
    } catch (e) {
      return this.#lost(c, `authenticate: ${String(e)}`);
    }
    if (c.dead) return;
    if (authorization != null) c.out.unshift(frame(this.#nextId++, "rpc.authenticate", { authorization }));
    c.open = true;
    for (const message of c.out.splice(0)) this.#write(c, message);
    if (c.dead) return;
    this.#setState("open");
    this.#attach();
  }

  /** Gives every subscription without a connection to the current one, making it if need be. */
  #attach(): void {
    for (const s of this.#subs) {
      if (s.conn) continue;
      const c = this.#conn ?? this.#connect(true);
      if (c.open) this.#subscribe(c, s);
    }
    if (!this.#conn) this.#setState("closed");
  }

  /** `c` is gone: its calls fail with TRANSPORT, its subscriptions move to the next connection. */
  #lost(c: Channel, reason: string): void {
    if (c.dead) return;
    c.dead = true;
    c.open = false;
    clearTimeout(c.timer);
    try {
      c.ws?.close();
    } catch {
      // already closing; nothing else to release
    }
    if (c === this.#conn) this.#conn = undefined;
    for (const [id, p] of this.#pending) {
      if (p.conn !== c) continue;
      this.#pending.delete(id);
      p.settle?.({ ok: false, error: transportError(p.method, reason) });
      p.sub?.gone?.();
    }
    for (const s of this.#subs) if (s.conn === c) this.#detach(s, transportError(s.method, reason));
    this.#attach();
  }

  /** A subscription lost its connection: it waits for the next one, or ends (`reconnect: false`). */
  #detach(s: LiveSubscription, error: AccordError): void {
    s.conn = undefined;
    if (this.#opts.reconnect !== false) return;
    this.#subs.delete(s);
    s.sink.end(error);
  }

  /**
   * Whether a subscription that ended, or was refused, with `error` is subscribed again rather
   * than ended (unless `reconnect: false`):
   * - UNAVAILABLE with `retryAfterMs: 0` is a draining server ("resubscribe elsewhere",
   *   docs/wire.md): new work goes to a new connection; `c` lives on until its calls in flight
   *   are answered;
   * - another "try again" error (UNAVAILABLE, OVERLOADED, RATE_LIMITED) of a subscription
   *   accepted before (a stream cut short, a resubscribe refused): again after the server's
   *   `retryAfterMs`, else a backoff. A first subscribe refused so is the caller's to handle.
   */
  #again(c: Channel, s: LiveSubscription, error: AccordError | null): boolean {
    const after = (error?.data as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
    const drain = error?.code === "UNAVAILABLE" && after === 0;
    if (this.#opts.reconnect === false || !(drain || (s.acked && isRetryable(error, { idempotent: true } as Operation)))) return false;
    s.conn = undefined;
    if (!drain) {
      setTimeout(() => this.#attach(), typeof after === "number" ? Math.min(after, 2 ** 30) : this.#backoff(s.tries++));
      return true;
    }
    if (c === this.#conn) this.#conn = undefined;
    this.#retire(c);
    return true;
  }

  /** Closes a draining connection once nothing is in flight on it; resubscribes what it carried. */
  #retire(c: Channel): void {
    if (c === this.#conn) return;
    if (![...this.#pending.values()].some((p) => p.conn === c)) this.#lost(c, "drained");
    this.#attach();
  }

  #receive(c: Channel, data: unknown): void {
    if (c.dead) return;
    c.heard = true;
    // Text frames are strings; a binary one is a Buffer with `ws` and Bun (String() decodes its
    // UTF-8) and a Blob in browsers (not JSON: ignored; Accord servers send text).
    const parsed = parseJson(String(data));
    if (!parsed) return; // not attributable to any call; their timeouts cover a broken server
    const messages: unknown[] = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    for (const m of messages) if (!c.dead) this.#dispatch(c, classify(m));
  }

  #dispatch(c: Channel, msg: Incoming): void {
    if (msg.kind === "response") return this.#settle(c, msg.id, msg.reply);
    if (msg.kind === "invalid") return;
    const key = String(msg.subscription);
    const s = c.subs.get(key);
    if (!s) {
      if (![...this.#pending.values()].some((p) => p.sub && p.conn === c)) return; // late, for an ended stream
      c.early.push(msg);
      if (c.early.length > MAX_EARLY_NOTIFICATIONS) c.early.shift();
      return;
    }
    if (msg.kind === "item") {
      if (msg.eventId !== undefined) s.last = msg.eventId;
      return s.sink.item(msg.item);
    }
    if (msg.kind === "missed") return s.sink.missed(fromWireError(msg.missed, s.method) as EventsMissed);
    c.subs.delete(key);
    const error = msg.error === null ? null : fromWireError(msg.error, s.method);
    if (this.#again(c, s, error)) return;
    this.#subs.delete(s);
    s.sink.end(error);
  }

  #settle(c: Channel, id: RpcId | null, reply: Record<string, unknown>): void {
    const p = id === null ? undefined : this.#pending.get(id);
    if (!p || id === null) return;
    this.#pending.delete(id);
    const outcome = settle(reply, p.method);
    if (outcome.ok) this.#attempt = 0;
    if (p.sub) this.#accept(c, p.sub, outcome);
    else p.settle?.(outcome);
    if (!c.dead) this.#retire(c);
  }

  /** The answer to a subscribe request. */
  #accept(c: Channel, s: LiveSubscription, outcome: Settled): void {
    const value = outcome.ok ? outcome.value : undefined;
    const valid = isId(value);
    if (!this.#subs.has(s)) {
      // Stopped while the request was in flight: stop it on the server too.
      if (valid) void this.#unsubscribe(c, s, value).then(s.gone);
      else s.gone?.();
      return;
    }
    if (!outcome.ok) {
      if (this.#again(c, s, outcome.error)) return;
      this.#subs.delete(s);
      return s.sink.end(outcome.error);
    }
    if (!valid) {
      this.#subs.delete(s);
      return s.sink.end(transportError(s.method, "bad subscription id"));
    }
    const key = String(value);
    c.subs.set(key, s);
    s.id = key;
    s.tries = 0;
    const again = s.acked;
    s.acked = true;
    s.sink.accepted(value);
    if (again && s.last === undefined) {
      // Nothing to resume from (no event id seen): whatever happened in between is unknown.
      const data = { code: "EVENTS_MISSED", reason: "unknown" } as const;
      s.sink.missed(new AccordError({ message: "no event id to resume from", rpcCode: -32052, data, method: s.method }));
    }
    const mine = (m: StreamMessage): boolean => String(m.subscription) === key;
    const early = c.early.filter(mine);
    c.early = c.early.filter((m) => !mine(m));
    for (const m of early) if (c.subs.get(key) === s) this.#dispatch(c, m);
  }
}
