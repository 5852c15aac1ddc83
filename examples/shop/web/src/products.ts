// The catalogue column: debounced search, a page of products (20 at a time), paging, the detail
// panel of one product, and "Add to cart". Products seen here are remembered in `known`, which
// the cart uses for names and prices.

import type { Product } from "./api/index.js";
import type { Cart } from "./cart.js";
import { actionOf, byId, h, money, num, say } from "./dom.js";
import type { ShopApi } from "./shop.js";

const PAGE_SIZE = 20;
const DEBOUNCE_MS = 250;

export class ProductsView {
  readonly #api: ShopApi;
  readonly #cart: Cart;
  readonly #known: Map<number, Product>;
  readonly #search = byId("search", HTMLInputElement);
  readonly #list = byId("product-list", HTMLDivElement);
  readonly #message = byId("products-message", HTMLParagraphElement);
  readonly #detail = byId("product-detail", HTMLElement);
  readonly #prev = byId("prev-page", HTMLButtonElement);
  readonly #next = byId("next-page", HTMLButtonElement);
  readonly #pageInfo = byId("page-info", HTMLSpanElement);
  #offset = 0;
  #total = 0;
  #items: Product[] = [];
  #loading: AbortController | null = null;
  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(api: ShopApi, cart: Cart, known: Map<number, Product>) {
    this.#api = api;
    this.#cart = cart;
    this.#known = known;
    this.#search.addEventListener("input", () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.load(0), DEBOUNCE_MS);
    });
    this.#prev.addEventListener("click", () => void this.load(Math.max(0, this.#offset - PAGE_SIZE)));
    this.#next.addEventListener("click", () => void this.load(this.#offset + PAGE_SIZE));
    this.#list.addEventListener("click", (event) => this.#onClick(event));
    this.#detail.addEventListener("click", (event) => this.#onClick(event));
    cart.onChange(() => this.#render());
  }

  /** Loads the current page, and the open product's detail, again (stock changes after an order). */
  async reload(): Promise<void> {
    const open = Number(this.#detail.dataset.productId);
    await Promise.all([this.load(this.#offset), !this.#detail.hidden && open > 0 ? this.#showDetail(open) : undefined]);
  }

  /** Loads the page at `offset` for the current search; a newer load cancels an older one. */
  async load(offset: number): Promise<void> {
    this.#loading?.abort();
    const loading = new AbortController();
    this.#loading = loading;
    const search = this.#search.value.trim();
    say(this.#message, "Loading…");
    try {
      const outcome = await this.#api.listProducts({ search: search === "" ? null : search, limit: PAGE_SIZE, offset }, loading.signal);
      if (!outcome.ok) {
        say(this.#message, outcome.message, "error");
        return;
      }
      const page = outcome.value;
      for (const product of page.items) this.#known.set(product.id, product);
      this.#items = page.items;
      this.#offset = page.offset;
      this.#total = page.total;
      say(this.#message, page.total === 0 ? `No products match “${search}”.` : "");
      this.#render();
    } catch (e) {
      if (loading.signal.aborted) return; // a newer search replaced this one
      throw e;
    }
  }

  #onClick(event: Event): void {
    const target = actionOf(event);
    if (target === null) return;
    if (target.action === "add") this.#cart.add(target.id);
    else if (target.action === "detail") void this.#showDetail(target.id);
    else if (target.action === "close-detail") this.#detail.hidden = true;
  }

  async #showDetail(id: number): Promise<void> {
    this.#detail.hidden = false;
    delete this.#detail.dataset.productId;
    this.#detail.replaceChildren(h("p", { class: "message" }, "Loading…"));
    const outcome = await this.#api.getProduct(id);
    if (!outcome.ok) {
      this.#detail.replaceChildren(h("p", { class: "message error", "data-testid": "product-detail-error" }, outcome.message), this.#closeButton());
      return;
    }
    const p = outcome.value;
    this.#known.set(p.id, p);
    this.#detail.dataset.productId = String(p.id);
    this.#detail.replaceChildren(
      h("header", {}, h("h3", { "data-testid": "product-detail-name" }, p.name), this.#closeButton()),
      h("p", { class: "facts" }, `${p.category} · ${money(p.priceCents)} · ${stockText(p.stock)}`),
      h("p", { "data-testid": "product-detail-description" }, p.description),
      this.#addButton(p),
    );
  }

  #closeButton(): HTMLButtonElement {
    return h("button", { type: "button", class: "link", "data-action": "close-detail", "data-id": 0, "data-testid": "product-detail-close" }, "Close");
  }

  #addButton(p: Product): HTMLButtonElement {
    const inCart = this.#cart.quantity(p.id);
    return h(
      "button",
      { type: "button", "data-action": "add", "data-id": p.id, "data-testid": `add-to-cart-${p.id}`, disabled: p.stock === 0 },
      inCart > 0 ? `Add to cart (${inCart} in cart)` : "Add to cart",
    );
  }

  #render(): void {
    const rows = this.#items.map((p) =>
      h(
        "tr",
        { "data-testid": `product-row-${p.id}` },
        h("td", {}, h("button", { type: "button", class: "link", "data-action": "detail", "data-id": p.id, "data-testid": `product-name-${p.id}` }, p.name)),
        h("td", {}, p.category),
        h("td", { class: "num", "data-testid": `product-price-${p.id}` }, money(p.priceCents)),
        h("td", { class: p.stock === 0 ? "num out" : "num", "data-testid": `product-stock-${p.id}` }, stockText(p.stock)),
        h("td", { class: "num" }, this.#addButton(p)),
      ),
    );
    this.#list.replaceChildren(
      rows.length === 0
        ? ""
        : h(
            "table",
            { class: "products" },
            h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Category"), h("th", { class: "num" }, "Price"), h("th", { class: "num" }, "Stock"), h("th", {}))),
            h("tbody", {}, ...rows),
          ),
    );
    const first = this.#total === 0 ? 0 : this.#offset + 1;
    const last = Math.min(this.#offset + this.#items.length, this.#total);
    this.#pageInfo.textContent = `${num(first)}–${num(last)} of ${num(this.#total)}`;
    this.#prev.disabled = this.#offset === 0;
    this.#next.disabled = this.#offset + PAGE_SIZE >= this.#total;
    // Keep the detail panel's button in step with the cart.
    const shown = this.#known.get(Number(this.#detail.dataset.productId));
    const button = this.#detail.querySelector("[data-action=add]");
    if (shown && button) button.replaceWith(this.#addButton(shown));
  }
}

function stockText(stock: number): string {
  return stock === 0 ? "sold out" : `${num(stock)} left`;
}
