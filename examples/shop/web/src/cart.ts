// The cart: product id → quantity, in the order products were added, kept in localStorage so a
// reload keeps it. It also holds the idempotency key of the next checkout: made once per cart
// content and reused until the content changes, so a double click or a retry after a network
// failure sends the same key and the server places the order at most once.

import type { CartLine } from "./api/index.js";

/** The wire limits of `orders.checkout`. */
export const MAX_QUANTITY = 100;
export const MAX_LINES = 50;

/** What the cart needs of `localStorage` (tests may pass a stand-in, or none). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

type Stored = { lines: Array<[number, number]>; checkoutKey: string | null };

function parse(text: string | null): Stored {
  const empty: Stored = { lines: [], checkoutKey: null };
  if (text === null) return empty;
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw !== "object" || raw === null || !("lines" in raw) || !Array.isArray(raw.lines)) return empty;
    const lines: Array<[number, number]> = [];
    for (const line of raw.lines as unknown[]) {
      if (!Array.isArray(line)) continue;
      const [id, quantity]: unknown[] = line;
      if (Number.isInteger(id) && Number.isInteger(quantity) && Number(quantity) > 0) {
        lines.push([Number(id), Math.min(Number(quantity), MAX_QUANTITY)]);
      }
    }
    const key = "checkoutKey" in raw && typeof raw.checkoutKey === "string" ? raw.checkoutKey : null;
    return { lines: lines.slice(0, MAX_LINES), checkoutKey: key };
  } catch {
    return empty;
  }
}

/** A fresh idempotency key (a UUID; `randomUUID` needs a secure context, so fall back to random bytes). */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Cart {
  readonly #lines: Map<number, number>;
  #checkoutKey: string | null;
  readonly #store: KeyValueStore | null;
  readonly #storageKey: string;
  readonly #listeners = new Set<() => void>();

  constructor(store: KeyValueStore | null, storageKey = "shop.cart") {
    this.#store = store;
    this.#storageKey = storageKey;
    const stored = parse(store?.getItem(storageKey) ?? null);
    this.#lines = new Map(stored.lines);
    this.#checkoutKey = stored.checkoutKey;
  }

  /** The lines, oldest first, as `orders.checkout` takes them. */
  get lines(): CartLine[] {
    return [...this.#lines].map(([productId, quantity]) => ({ productId, quantity }));
  }

  get isEmpty(): boolean {
    return this.#lines.size === 0;
  }

  quantity(productId: number): number {
    return this.#lines.get(productId) ?? 0;
  }

  /** Adds `n` units (at most 100 per line, 50 lines). Returns false when it could not. */
  add(productId: number, n = 1): boolean {
    const now = this.quantity(productId);
    if (now === 0 && this.#lines.size >= MAX_LINES) return false;
    if (now >= MAX_QUANTITY) return false;
    return this.set(productId, now + n);
  }

  /** Sets a line's quantity (clamped to 100); 0 or less removes it. */
  set(productId: number, quantity: number): boolean {
    const q = Math.min(Math.floor(quantity), MAX_QUANTITY);
    if (q === this.quantity(productId)) return true;
    if (q <= 0) this.#lines.delete(productId);
    else if (!this.#lines.has(productId) && this.#lines.size >= MAX_LINES) return false;
    else this.#lines.set(productId, q);
    this.#changed(true);
    return true;
  }

  remove(productId: number): void {
    this.set(productId, 0);
  }

  /** Takes an order's lines out of the cart (all of it, unless something was added meanwhile). */
  removeOrdered(lines: readonly CartLine[]): void {
    for (const { productId, quantity } of lines) {
      const left = this.quantity(productId) - quantity;
      if (left <= 0) this.#lines.delete(productId);
      else this.#lines.set(productId, left);
    }
    this.#changed(true);
  }

  /** The key for checking out the current content: the same until the content changes. */
  checkoutKey(): string {
    if (this.#checkoutKey === null) {
      this.#checkoutKey = newKey();
      this.#changed(false);
    }
    return this.#checkoutKey;
  }

  /** Forgets the key (after the server said it belongs to another cart: `CONFLICT`). */
  renewCheckoutKey(): void {
    this.#checkoutKey = null;
    this.#changed(false);
  }

  /** Calls `listener` after every change. */
  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  #changed(content: boolean): void {
    if (content) this.#checkoutKey = null;
    const stored: Stored = { lines: [...this.#lines], checkoutKey: this.#checkoutKey };
    try {
      if (this.#lines.size === 0 && stored.checkoutKey === null) this.#store?.removeItem(this.#storageKey);
      else this.#store?.setItem(this.#storageKey, JSON.stringify(stored));
    } catch {
      // Storage full or disabled: the cart still works for this page's lifetime.
    }
    if (content) for (const listener of this.#listeners) listener();
  }
}
