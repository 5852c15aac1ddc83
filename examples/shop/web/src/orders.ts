// "My orders": the signed-in user's latest orders with their items, kept current by the
// `orders.events` subscription (status changes appear without a reload). It subscribes first and
// loads the list once the server accepted the subscription, so no change falls in between;
// statuses only move forward, so an event older than the loaded list cannot move one back. The
// subscription survives restarts of the server: while it is away the header says
// "reconnecting…", and when the client reports that changes may have been missed meanwhile, the
// list is loaded again.

import type { Order, OrderEvent, OrderStatus } from "./api/index.js";
import { byId, h, money, num, say } from "./dom.js";
import type { ShopApi } from "./shop.js";

const RANK: Readonly<Record<OrderStatus, number>> = { placed: 0, paid: 1, shipped: 2, delivered: 3 };
const RETRY_MS = 3000;

export class OrdersView {
  readonly #api: ShopApi;
  readonly #list = byId("orders-list", HTMLOListElement);
  readonly #message = byId("orders-message", HTMLParagraphElement);
  readonly #live = byId("orders-live", HTMLSpanElement);
  #orders: Order[] = [];
  #total = 0;
  #fresh = new Set<number>();
  /** Events that came before the list: applied once it is loaded. */
  #early: OrderEvent[] | null = [];
  #watching: AbortController | null = null;

  constructor(api: ShopApi) {
    this.#api = api;
    api.onConnectionChange((state) => {
      if (this.#watching === null || this.#live.dataset.state === "connecting") return;
      if (state === "reconnecting") this.#setLive("reconnecting");
      else if (state === "open") this.#setLive("live");
    });
  }

  /** Starts showing the signed-in user's orders (again). */
  start(): void {
    this.stop();
    const watching = new AbortController();
    this.#watching = watching;
    say(this.#message, "Loading…");
    void this.#watch(watching.signal);
  }

  /** Signed out: stops the subscription and clears the list. */
  stop(): void {
    this.#watching?.abort();
    this.#watching = null;
    this.#orders = [];
    this.#total = 0;
    this.#setLive("off");
    say(this.#message, "Sign in to see your orders.");
    this.#render();
  }

  /** A just-placed order goes to the top (once, even if the server answered twice). */
  add(order: Order): void {
    if (!this.#orders.some((o) => o.id === order.id)) {
      this.#total += 1;
      this.#fresh.add(order.id);
    }
    this.#upsert(order);
    say(this.#message, "");
    this.#render();
  }

  async #watch(signal: AbortSignal): Promise<void> {
    this.#early = [];
    this.#setLive("connecting");
    const outcome = await this.#api.watchOrders(
      (event) => this.#apply(event),
      () => {
        this.#setLive(this.#api.connectionState === "reconnecting" ? "reconnecting" : "live");
        void this.#load(signal);
      },
      () => void this.#load(signal),
      signal,
    );
    if (signal.aborted || this.#api.user === null) return;
    this.#setLive("off");
    say(this.#message, `Live updates stopped: ${outcome.ok ? "the server ended them." : outcome.message} Retrying…`, "error");
    setTimeout(() => {
      if (!signal.aborted) void this.#watch(signal);
    }, RETRY_MS);
  }

  async #load(signal: AbortSignal): Promise<void> {
    const outcome = await this.#api.myOrders();
    if (signal.aborted) return;
    if (!outcome.ok) {
      say(this.#message, outcome.message, "error");
      return;
    }
    this.#total = outcome.value.total;
    for (const order of [...outcome.value.items].reverse()) this.#upsert(order);
    const early = this.#early ?? [];
    this.#early = null;
    for (const event of early) this.#apply(event);
    say(this.#message, this.#orders.length === 0 ? "No orders yet." : "");
    this.#render();
  }

  /** Inserts or replaces `order`, keeping newest first and never moving a status back. */
  #upsert(order: Order): void {
    const old = this.#orders.find((o) => o.id === order.id);
    const merged = old && RANK[old.status] > RANK[order.status] ? { ...order, status: old.status } : order;
    this.#orders = [merged, ...this.#orders.filter((o) => o.id !== order.id)].sort((a, b) => b.id - a.id);
  }

  #apply(event: OrderEvent): void {
    if (this.#early !== null) {
      this.#early.push(event);
      return;
    }
    const order = this.#orders.find((o) => o.id === event.orderId);
    if (order === undefined) {
      // Older than the orders shown: not on this page.
      if (this.#orders.some((o) => o.id > event.orderId)) return;
      // Newer: placed elsewhere (another tab), or its checkout answer is still on its way.
      void this.#api.getOrder(event.orderId).then((outcome) => {
        if (outcome.ok && this.#watching !== null) this.add(outcome.value);
      });
      return;
    }
    if (RANK[event.status] <= RANK[order.status]) return;
    this.#orders = this.#orders.map((o) => (o.id === event.orderId ? { ...o, status: event.status, updatedAtMs: event.atMs } : o));
    this.#render();
  }

  #setLive(state: "off" | "connecting" | "live" | "reconnecting"): void {
    this.#live.dataset.state = state;
    this.#live.textContent = state === "off" ? "" : state === "live" ? "live" : `${state}…`;
  }

  #render(): void {
    const items = this.#orders.map((order) => {
      const id = order.id;
      const li = h(
        "li",
        { class: this.#fresh.has(id) ? "order fresh" : "order", "data-testid": `order-${id}` },
        h(
          "header",
          {},
          h("strong", {}, `#${id}`),
          h("span", { class: `status status-${order.status}`, "data-testid": `order-status-${id}` }, order.status),
          h("span", { class: "total", "data-testid": `order-total-${id}` }, money(order.totalCents)),
        ),
        h("ul", { "data-testid": `order-items-${id}` }, ...order.items.map((item) => h("li", {}, `${item.productName} × ${num(item.quantity)}`))),
        h("time", { datetime: new Date(order.createdAtMs).toISOString() }, new Date(order.createdAtMs).toLocaleString()),
      );
      return li;
    });
    this.#fresh.clear();
    this.#list.replaceChildren(...items);
    this.#list.dataset.total = String(this.#total);
    this.#list.dataset.loaded = String(this.#watching !== null && this.#early === null);
  }
}
