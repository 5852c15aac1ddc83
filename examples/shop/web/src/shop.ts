// The shop API as the page uses it: one `@accord/client` over the generated bindings (`./api/`,
// never edited by hand), re-created whenever the session changes. HTTP calls carry the token as
// `Authorization: Bearer`; browsers cannot set headers on a WebSocket, so the client sends it as
// the first message of every connection instead (`rpc.authenticate`), never in the URL. Every
// call that can fail in a way worth showing returns an `Outcome` whose message comes from
// ./messages.ts.

import { createClient, type Client, type ConnectionState } from "@accord/client";
import {
  procedures,
  type Checkout,
  type Order,
  type OrderEvent,
  type OrderPage,
  type Procedures,
  type Product,
  type ProductPage,
  type ProductQuery,
  type User,
} from "./api/index.js";
import { authMessage, orderMessage, productMessage } from "./messages.js";
import type { KeyValueStore } from "./cart.js";

/** A call's result: the value, or the error's code and the message to show. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

type StoredSession = { token: string; user: User };

/** The URL of `/rpc` on the page's own origin (the client derives the WebSocket's from it). */
export function rpcUrl(pageUrl: string): string {
  return new URL("/rpc", pageUrl).href;
}

function loadSession(store: KeyValueStore | null, key: string): StoredSession | null {
  try {
    const raw: unknown = JSON.parse(store?.getItem(key) ?? "null");
    if (typeof raw !== "object" || raw === null || !("token" in raw) || !("user" in raw)) return null;
    const { token, user } = raw;
    if (typeof token !== "string" || typeof user !== "object" || user === null) return null;
    if (!("id" in user) || !("email" in user) || !("name" in user) || !("isAdmin" in user)) return null;
    const { id, email, name, isAdmin } = user;
    if (typeof id !== "number" || typeof email !== "string" || typeof name !== "string" || typeof isAdmin !== "boolean") return null;
    return { token, user: { id, email, name, isAdmin } };
  } catch {
    return null;
  }
}

export class ShopApi {
  readonly #pageUrl: string;
  readonly #store: KeyValueStore | null;
  readonly #storageKey = "shop.session";
  readonly #listeners = new Set<(user: User | null) => void>();
  readonly #connectionListeners = new Set<(state: ConnectionState) => void>();
  #session: StoredSession | null;
  #client: Client<Procedures>;

  constructor(pageUrl: string, store: KeyValueStore | null) {
    this.#pageUrl = pageUrl;
    this.#store = store;
    this.#session = loadSession(store, this.#storageKey);
    this.#client = this.#connect();
  }

  /** The signed-in user, or null. */
  get user(): User | null {
    return this.#session?.user ?? null;
  }

  /** Calls `listener` after every sign-in and sign-out (also a session the server ended). */
  onSessionChange(listener: (user: User | null) => void): void {
    this.#listeners.add(listener);
  }

  /** The live-updates socket's state: `"reconnecting"` while the server cannot be reached. */
  get connectionState(): ConnectionState {
    return this.#client.$connection.state;
  }

  /** Calls `listener` on every change of `connectionState`, across sessions. */
  onConnectionChange(listener: (state: ConnectionState) => void): void {
    this.#connectionListeners.add(listener);
  }

  #connect(): Client<Procedures> {
    const authorization = this.#session === null ? null : `Bearer ${this.#session.token}`;
    const client = createClient<Procedures>({
      url: rpcUrl(this.#pageUrl),
      procedures,
      headers: (): Record<string, string> => (authorization !== null ? { authorization } : {}),
      authenticate: () => authorization,
    });
    client.$connection.onChange((state) => {
      if (client !== this.#client) return; // a client of an earlier session, closing
      for (const listener of this.#connectionListeners) listener(state);
    });
    return client;
  }

  #setSession(session: StoredSession | null): void {
    if (session?.token === this.#session?.token) return;
    this.#session = session;
    try {
      if (session === null) this.#store?.removeItem(this.#storageKey);
      else this.#store?.setItem(this.#storageKey, JSON.stringify(session));
    } catch {
      // Storage disabled: the session lasts as long as the page.
    }
    const old = this.#client;
    this.#client = this.#connect();
    // Listeners stop their subscriptions first, so closing the old socket fails none of them.
    for (const listener of this.#listeners) listener(this.user);
    old.close();
  }

  /** A signed-in call failed with UNAUTHENTICATED: the token expired or was revoked. */
  #checkSession<T>(outcome: Outcome<T>): Outcome<T> {
    if (!outcome.ok && outcome.code === "UNAUTHENTICATED") this.#setSession(null);
    return outcome;
  }

  async login(email: string, password: string): Promise<Outcome<User>> {
    const { login } = this.#client.auth;
    try {
      const session = await login({ email, password });
      this.#setSession({ token: session.token, user: session.user });
      return { ok: true, value: session.user };
    } catch (e) {
      if (!login.isError(e)) throw e;
      return { ok: false, code: e.code, message: authMessage(e) };
    }
  }

  /** Signs out everywhere; the page forgets the token even when the server cannot be told. */
  async logout(): Promise<Outcome<null>> {
    const { logout } = this.#client.auth;
    try {
      return { ok: true, value: await logout() };
    } catch (e) {
      if (!logout.isError(e)) throw e;
      return e.code === "UNAUTHENTICATED" ? { ok: true, value: null } : { ok: false, code: e.code, message: authMessage(e) };
    } finally {
      this.#setSession(null);
    }
  }

  /** Checks a token kept from an earlier visit; drops it when the server no longer takes it. */
  async restore(): Promise<void> {
    if (this.#session === null) return;
    const { me } = this.#client.auth;
    try {
      const user = await me();
      if (this.#session !== null) this.#session = { ...this.#session, user };
    } catch (e) {
      if (!me.isError(e)) throw e;
      if (e.code === "UNAUTHENTICATED") this.#setSession(null);
    }
  }

  /** One page of the catalogue. An abort through `signal` rejects (with the signal's reason). */
  async listProducts(query: ProductQuery, signal: AbortSignal): Promise<Outcome<ProductPage>> {
    const { list } = this.#client.products;
    try {
      return { ok: true, value: await list(query, { signal }) };
    } catch (e) {
      if (!list.isError(e)) throw e;
      return { ok: false, code: e.code, message: productMessage(e) };
    }
  }

  async getProduct(id: number): Promise<Outcome<Product>> {
    const { get } = this.#client.products;
    try {
      return { ok: true, value: await get({ id }) };
    } catch (e) {
      if (!get.isError(e)) throw e;
      return { ok: false, code: e.code, message: productMessage(e) };
    }
  }

  async checkout(input: Checkout, nameOf: (productId: number) => string | undefined): Promise<Outcome<Order>> {
    const { checkout } = this.#client.orders;
    try {
      return { ok: true, value: await checkout(input) };
    } catch (e) {
      if (!checkout.isError(e)) throw e;
      return this.#checkSession({ ok: false, code: e.code, message: orderMessage(e, nameOf) });
    }
  }

  async myOrders(): Promise<Outcome<OrderPage>> {
    const { listMine } = this.#client.orders;
    try {
      return { ok: true, value: await listMine({ limit: 20 }) };
    } catch (e) {
      if (!listMine.isError(e)) throw e;
      return this.#checkSession({ ok: false, code: e.code, message: orderMessage(e) });
    }
  }

  async getOrder(id: number): Promise<Outcome<Order>> {
    const { get } = this.#client.orders;
    try {
      return { ok: true, value: await get({ id }) };
    } catch (e) {
      if (!get.isError(e)) throw e;
      return this.#checkSession({ ok: false, code: e.code, message: orderMessage(e) });
    }
  }

  /**
   * Streams the caller's order status changes to `onEvent` until `signal` aborts (then it
   * resolves ok) or the stream fails. `onReady` runs once the server accepted the subscription.
   * The stream outlives restarts of the server (the client resubscribes); `onMissed` runs when
   * changes may have been missed meanwhile: reload what it keeps current.
   */
  async watchOrders(
    onEvent: (event: OrderEvent) => void,
    onReady: () => void,
    onMissed: () => void,
    signal: AbortSignal,
  ): Promise<Outcome<void>> {
    const { events } = this.#client.orders;
    try {
      const subscription = events(undefined, { signal, onEventsMissed: onMissed });
      subscription.ready.then(onReady, () => {}); // a refusal is reported by the loop below
      for await (const event of subscription) onEvent(event);
      return { ok: true, value: undefined };
    } catch (e) {
      if (signal.aborted) return { ok: true, value: undefined };
      if (!events.isError(e)) throw e;
      return this.#checkSession({ ok: false, code: e.code, message: orderMessage(e) });
    }
  }
}
