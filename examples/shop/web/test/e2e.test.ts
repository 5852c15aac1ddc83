// The shop page in a real browser against a real shop: builds the page from src/ into a temporary
// directory, starts the shop server binary on it (a fresh SQLite database, fast fulfilment),
// and drives headless Chromium through sign-in, search, cart, checkout and the live order status,
// then restarts the shop under the page and checks that the statuses stay live without a reload.
//
//   SHOP_BIN        the server binary (default <repo>/target/debug/shop; `cargo build -p shop`)
//   CHROMIUM_PATH   the browser (default /usr/bin/chromium; `apt-get install chromium`)
//   ACCORD_REQUIRE_BROWSER=1   a missing browser fails the test instead of skipping it (CI)
//
// On a failure the page is saved to test-results/<test name>.png.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { createClient } from "@accord/client/http";
import type { Browser, Page } from "playwright-core";
import { procedures, type Procedures } from "../src/api/index.js";
import { launchChromium, noBrowser, resultsDir, skip, startShop, until, webDir, type RunningShop } from "./support.js";

/** Builds the page from src/ into `dir`/web (as CI would serve it); returns that directory. */
function buildPage(dir: string): string {
  const webOut = path.join(dir, "web");
  execFileSync(process.execPath, [path.join(webDir, "build.mjs"), "--outdir", webOut], { stdio: "pipe" });
  return webOut;
}

/** Runs `body` on a fresh page (empty storage); on failure saves a screenshot, the page's errors and the shop's output. */
async function withPage(
  t: TestContext,
  browser: Browser | undefined,
  shop: RunningShop | undefined,
  body: (page: Page, base: string, errors: string[]) => Promise<void>,
): Promise<void> {
  assert.ok(browser && shop, "set up by before()");
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  try {
    await body(page, shop.url, errors);
  } catch (error) {
    mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, `${t.name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true });
      console.log(`# screenshot of the failed page: ${file}`);
    } catch (e) {
      console.log(`# no screenshot: ${String(e)}`);
    }
    if (errors.length > 0) console.log(`# the page reported:\n${errors.map((e) => `#   ${e}`).join("\n")}`);
    console.log(`# the shop's output:\n${shop.output().replace(/^/gm, "#   ")}`);
    throw error;
  } finally {
    await context.close();
  }
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId("login-email").fill(email);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}

describe("the shop page in headless Chromium", { timeout: 180_000 }, () => {
  let dir = "";
  let shop: RunningShop | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (skip) return;
    if (noBrowser !== null) assert.fail(`${noBrowser}. (ACCORD_REQUIRE_BROWSER=1: this is a failure, not a skip.)`);
    dir = mkdtempSync(path.join(tmpdir(), "shop-e2e-"));
    shop = await startShop(dir, buildPage(dir));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("a wrong password shows the invalid-credentials message", { skip }, async (t) => {
    await withPage(t, browser, shop, async (page, base) => {
      await page.goto(base);
      await signIn(page, "bob@example.com", "not-the-password");
      const error = page.getByTestId("login-error");
      await error.waitFor({ state: "visible" });
      assert.equal(await error.textContent(), "Wrong email or password.");
      assert.equal(await page.getByTestId("signed-in").isVisible(), false);
      assert.equal(await page.getByTestId("login-form").isVisible(), true);
    });
  });

  test("bob finds a lamp, checks out and watches the order get delivered live", { skip }, async (t) => {
    await withPage(t, browser, shop, async (page, base, errors) => {
      await page.goto(base);
      await signIn(page, "bob@example.com", "password123");
      await until("bob is signed in", async () => (await page.getByTestId("user-name").textContent()) === "Bob Builder");
      await until("the order status subscription is live", async () => (await page.getByTestId("orders-live").getAttribute("data-state")) === "live");
      const ordersList = page.getByTestId("orders-list");
      await until("bob's orders are loaded", async () => (await ordersList.getAttribute("data-loaded")) === "true");
      const ordersBefore = Number(await ordersList.getAttribute("data-total"));

      // Search (debounced); every row is a lamp.
      await page.getByTestId("search").fill("lamp");
      const names = page.locator('[data-testid^="product-name-"]');
      await until('the list shows only products named "lamp"', async () => {
        const shown = await names.allTextContents();
        return shown.length > 0 && shown.every((name) => /lamp/i.test(name));
      });
      assert.match((await page.getByTestId("page-info").textContent()) ?? "", /^1–\d+ of [\d,]+$/);

      // The first lamp in stock: its detail, then into the cart.
      const add = page.locator('[data-testid="product-list"] [data-testid^="add-to-cart-"]:not([disabled])').first();
      const id = Number(((await add.getAttribute("data-testid")) ?? "").replace("add-to-cart-", ""));
      assert.ok(Number.isInteger(id) && id > 0, "a lamp in stock");
      const name = (await page.getByTestId(`product-name-${id}`).textContent()) ?? "";
      await page.getByTestId(`product-name-${id}`).click();
      await until("the product's detail is shown", async () => (await page.getByTestId("product-detail-name").textContent()) === name);
      assert.notEqual((await page.getByTestId("product-detail-description").textContent()) ?? "", "");
      await add.click();
      const qty = page.getByTestId(`cart-qty-${id}`);
      await until("the lamp is in the cart", async () => (await qty.textContent()) === "1");
      await page.getByTestId(`cart-inc-${id}`).click();
      await until("+ makes it 2", async () => (await qty.textContent()) === "2");
      await page.getByTestId(`cart-dec-${id}`).click();
      await until("- makes it 1 again", async () => (await qty.textContent()) === "1");
      assert.equal(await page.getByTestId("cart-total").textContent(), await page.getByTestId(`product-price-${id}`).textContent());

      // Check out with a double click: one order.
      await page.getByTestId("checkout").dblclick();
      const message = page.getByTestId("checkout-message");
      await until("the checkout succeeds", async () => /^Order #\d+ placed/.test((await message.textContent()) ?? ""));
      const orderId = Number(/^Order #(\d+)/.exec((await message.textContent()) ?? "")?.[1]);
      const status = page.getByTestId(`order-status-${orderId}`);
      await status.waitFor({ state: "visible" });
      assert.match((await status.textContent()) ?? "", /^(placed|paid|shipped|delivered)$/);
      assert.equal(await ordersList.locator(":scope > li").first().getAttribute("data-testid"), `order-${orderId}`, "the new order is on top");
      assert.equal(await page.getByTestId(`order-items-${orderId}`).textContent(), `${name} × 1`);
      assert.equal(await page.getByTestId(`order-${orderId}`).count(), 1);
      await page.waitForTimeout(500); // a second order from the double click would have arrived by now
      assert.equal(Number(await ordersList.getAttribute("data-total")), ordersBefore + 1, "the double click placed one order");
      await page.getByTestId("cart-empty").waitFor({ state: "visible" });
      mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, "shop-after-checkout.png"), fullPage: true });

      // Fulfilment moves the order every 300 ms; the page shows it without a reload.
      await until(`order ${orderId} shows "delivered"`, async () => (await status.textContent()) === "delivered");
      await page.screenshot({ path: path.join(resultsDir, "shop-delivered.png"), fullPage: true });
      assert.deepEqual(errors, []);
    });
  });
});

describe("the shop page across a shop restart", { timeout: 180_000 }, () => {
  let dir = "";
  let webOut = "";
  let shop: RunningShop | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (skip) return;
    if (noBrowser !== null) assert.fail(`${noBrowser}. (ACCORD_REQUIRE_BROWSER=1: this is a failure, not a skip.)`);
    dir = mkdtempSync(path.join(tmpdir(), "shop-e2e-restart-"));
    webOut = buildPage(dir);
    // Slow fulfilment: the order is still on its way when the shop goes down.
    shop = await startShop(dir, webOut, { SHOP_FULFILMENT_STEP_MS: "1500" });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("order statuses stay live across a restart, without a reload and without a token in any URL", { skip }, async (t) => {
    await withPage(t, browser, shop, async (page, base, errors) => {
      const sockets: string[] = [];
      page.on("websocket", (ws) => sockets.push(ws.url()));
      await page.goto(base);
      await signIn(page, "ada@example.com", "password123");
      const live = page.getByTestId("orders-live");
      await until("the order status subscription is live", async () => (await live.getAttribute("data-state")) === "live");
      await until("ada's orders are loaded", async () => (await page.getByTestId("orders-list").getAttribute("data-loaded")) === "true");

      // An order placed elsewhere (another device): it shows up through the live events.
      let token = "";
      const api = createClient<Procedures>({
        url: `${base}rpc`,
        procedures,
        headers: (): Record<string, string> => (token === "" ? {} : { authorization: `Bearer ${token}` }),
      });
      ({ token } = await api.auth.login({ email: "ada@example.com", password: "password123" }));
      const products = await api.products.list({ inStockOnly: true, limit: 1 });
      const product = products.items[0];
      assert.ok(product, "a product in stock");
      const order = await api.orders.checkout({ idempotencyKey: `restart-${Date.now()}`, lines: [{ productId: product.id, quantity: 1 }] });
      const status = page.getByTestId(`order-status-${order.id}`);
      await status.waitFor({ state: "visible" });
      await page.evaluate(() => Object.assign(window, { loadedOnce: true }));

      // The shop goes down (SIGTERM: it drains) while the order is not delivered yet.
      assert.ok(shop);
      const port = Number(new URL(shop.url).port);
      assert.notEqual(await status.textContent(), "delivered", "fulfilment is slower than this");
      await shop.stop();
      await until('"my orders" says it is reconnecting', async () => (await live.getAttribute("data-state")) === "reconnecting");
      assert.equal(await live.textContent(), "reconnecting…");
      mkdirSync(resultsDir, { recursive: true });
      await page.screenshot({ path: path.join(resultsDir, "shop-reconnecting.png"), fullPage: true });

      // Back on the same address, with the same database: the page resubscribes by itself.
      shop = await startShop(dir, webOut, { PORT: String(port), SHOP_FULFILMENT_STEP_MS: "1500" });
      await until("the subscription is live again", async () => (await live.getAttribute("data-state")) === "live", 20_000);
      await until(`order ${order.id} shows "delivered", moved by the new process`, async () => (await status.textContent()) === "delivered", 20_000);
      assert.equal(await page.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce), true, "the page was not reloaded");
      assert.equal(await page.getByTestId(`order-${order.id}`).count(), 1);

      // Credentials went in band: no socket URL carried a token.
      assert.ok(sockets.length >= 2, `a socket before and after the restart: ${sockets.join(", ")}`);
      for (const url of sockets) assert.doesNotMatch(url, /token/i);
      // While the shop was down the browser logged its failed connection attempts; nothing else.
      const unexpected = errors.filter((e) => !/WebSocket connection to '[^']+' failed/.test(e));
      assert.deepEqual(unexpected, []);
    });
  });
});
