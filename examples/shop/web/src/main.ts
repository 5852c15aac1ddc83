// The shop page's entry point (bundled to /app.js by build.mjs): creates the API layer, the cart
// and the views, and wires the sign-in form and the session to them.

import type { Product, User } from "./api/index.js";
import { Cart } from "./cart.js";
import { CartView } from "./cart-view.js";
import { byId, say } from "./dom.js";
import { OrdersView } from "./orders.js";
import { ProductsView } from "./products.js";
import { ShopApi } from "./shop.js";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // disabled by the browser's settings
  }
}

async function main(): Promise<void> {
  const api = new ShopApi(location.href, storage());
  const cart = new Cart(storage());
  const known = new Map<number, Product>();
  const orders = new OrdersView(api);
  const products = new ProductsView(api, cart, known);
  const cartView = new CartView(api, cart, known, (order) => {
    orders.add(order);
    void products.reload();
  });

  const form = byId("login-form", HTMLFormElement);
  const email = byId("login-email", HTMLInputElement);
  const password = byId("login-password", HTMLInputElement);
  const loginError = byId("login-error", HTMLParagraphElement);
  const signedIn = byId("signed-in", HTMLDivElement);
  const userName = byId("user-name", HTMLElement);
  const logout = byId("logout", HTMLButtonElement);

  const showUser = (user: User | null): void => {
    form.hidden = user !== null;
    signedIn.hidden = user === null;
    userName.textContent = user?.name ?? "";
    if (user === null) orders.stop();
    else orders.start();
  };
  api.onSessionChange(showUser);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const submit = form.querySelector("button[type=submit]");
    if (submit instanceof HTMLButtonElement) submit.disabled = true;
    loginError.hidden = true;
    void api
      .login(email.value.trim(), password.value)
      .then((outcome) => {
        if (outcome.ok) {
          password.value = "";
          return;
        }
        say(loginError, outcome.message, "error");
        loginError.hidden = false;
      })
      .finally(() => {
        if (submit instanceof HTMLButtonElement) submit.disabled = false;
      });
  });
  logout.addEventListener("click", () => void api.logout());

  await api.restore();
  showUser(api.user);
  cartView.render();
  await products.load(0);
}

void main();
