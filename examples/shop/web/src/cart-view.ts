// The cart panel: its lines with quantity +/- and remove, the total, and "Check out". Checking
// out sends the cart's idempotency key (see ./cart.ts), so clicking twice, or again after a
// failure, never places two orders; the button is also disabled while a checkout is running.

import type { Order, Product, User } from "./api/index.js";
import { MAX_QUANTITY, type Cart } from "./cart.js";
import { actionOf, byId, h, money, say } from "./dom.js";
import type { ShopApi } from "./shop.js";

export class CartView {
  readonly #api: ShopApi;
  readonly #cart: Cart;
  readonly #known: Map<number, Product>;
  readonly #onOrdered: (order: Order) => void;
  readonly #lines = byId("cart-lines", HTMLDivElement);
  readonly #total = byId("cart-total", HTMLElement);
  readonly #checkout = byId("checkout", HTMLButtonElement);
  readonly #message = byId("checkout-message", HTMLParagraphElement);
  readonly #fetching = new Set<number>();
  #busy = false;

  constructor(api: ShopApi, cart: Cart, known: Map<number, Product>, onOrdered: (order: Order) => void) {
    this.#api = api;
    this.#cart = cart;
    this.#known = known;
    this.#onOrdered = onOrdered;
    this.#lines.addEventListener("click", (event) => {
      const target = actionOf(event);
      if (target === null || this.#busy) return;
      const quantity = cart.quantity(target.id);
      if (target.action === "inc") cart.set(target.id, quantity + 1);
      else if (target.action === "dec") cart.set(target.id, quantity - 1);
      else if (target.action === "remove") cart.remove(target.id);
    });
    this.#checkout.addEventListener("click", () => void this.checkout());
    cart.onChange(() => {
      say(this.#message, "");
      this.render();
    });
    api.onSessionChange((user) => {
      if (user !== null) say(this.#message, "");
      this.render();
    });
  }

  async checkout(): Promise<void> {
    if (this.#busy || this.#cart.isEmpty || this.#api.user === null) return;
    this.#busy = true;
    this.render();
    say(this.#message, "Placing your order…");
    const lines = this.#cart.lines;
    const idempotencyKey = this.#cart.checkoutKey();
    try {
      const outcome = await this.#api.checkout({ idempotencyKey, lines }, (id) => this.#known.get(id)?.name);
      if (outcome.ok) {
        this.#cart.removeOrdered(lines);
        this.#onOrdered(outcome.value);
        say(this.#message, `Order #${outcome.value.id} placed: ${money(outcome.value.totalCents)}.`, "ok");
      } else {
        if (outcome.code === "CONFLICT") this.#cart.renewCheckoutKey();
        say(this.#message, outcome.message, "error");
      }
    } finally {
      this.#busy = false;
      this.render();
    }
  }

  render(user: User | null = this.#api.user): void {
    const lines = this.#cart.lines;
    let total = 0;
    let priced = true;
    const rows = lines.map(({ productId, quantity }) => {
      const product = this.#known.get(productId);
      if (product === undefined) {
        priced = false;
        void this.#fetch(productId);
      } else total += product.priceCents * quantity;
      const name = product?.name ?? `Product ${productId}`;
      const ids = (what: string): string => `cart-${what}-${productId}`;
      return h(
        "div",
        { class: "cart-line", "data-testid": ids("line") },
        h("div", { class: "name" }, name, h("div", { class: "price" }, product ? `${money(product.priceCents)} each` : "")),
        h(
          "span",
          { class: "qty" },
          h("button", { type: "button", "data-action": "dec", "data-id": productId, "data-testid": ids("dec"), "aria-label": `One ${name} less`, disabled: this.#busy }, "−"),
          h("output", { "data-testid": ids("qty") }, String(quantity)),
          h("button", { type: "button", "data-action": "inc", "data-id": productId, "data-testid": ids("inc"), "aria-label": `One ${name} more`, disabled: this.#busy || quantity >= MAX_QUANTITY }, "+"),
        ),
        h("button", { type: "button", class: "link", "data-action": "remove", "data-id": productId, "data-testid": ids("remove"), disabled: this.#busy }, "Remove"),
      );
    });
    this.#lines.replaceChildren(...(rows.length > 0 ? rows : [h("p", { class: "empty", "data-testid": "cart-empty" }, "Your cart is empty.")]));
    this.#total.textContent = priced ? money(total) : "…";
    this.#checkout.disabled = this.#busy || lines.length === 0 || user === null;
    this.#checkout.textContent = user === null && lines.length > 0 ? "Sign in to check out" : this.#busy ? "Checking out…" : "Check out";
  }

  /** Looks up a product the page has not listed yet (a cart kept from an earlier visit). */
  async #fetch(id: number): Promise<void> {
    if (this.#fetching.has(id)) return;
    this.#fetching.add(id);
    const outcome = await this.#api.getProduct(id);
    if (outcome.ok) {
      this.#known.set(id, outcome.value);
      this.render();
    } else {
      say(this.#message, outcome.message, "error");
    }
  }
}
