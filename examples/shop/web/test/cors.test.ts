// CORS in a real browser: a page served from one origin calls the shop's API on another (the
// Vite-on-:5173-calling-:3000 setup). The shop allows one page origin through CORS_ORIGINS; a
// page on a second origin is refused, over fetch and over WebSocket alike.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skip, startShop, type RunningShop } from "./support.js";

if (skip) console.log(`# skipping the CORS browser test: ${skip}`);

/** A server for a blank page on its own origin (another port of 127.0.0.1). */
async function pageOrigin(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!doctype html><title>another origin</title>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

type Outcome = { ok: true; status: number; requestId: string | null; total: number } | { ok: false; error: string };

/** From `page`, calls `products.list` on `api` with the headers Accord's client sends. */
function callFrom(page: Page, api: string): Promise<Outcome> {
  return page.evaluate(async (url) => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-request-id": "cors-test-1",
          "x-accord-timeout-ms": "5000",
          traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "products.list", params: { limit: 2 } }),
      });
      const body = (await response.json()) as { result: { total: number } };
      return { ok: true as const, status: response.status, requestId: response.headers.get("x-request-id"), total: body.result.total };
    } catch (error) {
      return { ok: false as const, error: String(error) };
    }
  }, api);
}

/** From `page`, opens a WebSocket to `url`: "open", or "refused". */
function socketFrom(page: Page, url: string): Promise<string> {
  return page.evaluate(
    (ws) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(ws);
        socket.onopen = () => (socket.close(), resolve("open"));
        socket.onerror = () => resolve("refused");
      }),
    url,
  );
}

describe("a page on another origin calls the API", { timeout: 120_000 }, () => {
  let dir = "";
  let shop: RunningShop | undefined;
  let browser: Browser | undefined;
  let allowed: { server: Server; origin: string } | undefined;
  let other: { server: Server; origin: string } | undefined;

  before(async () => {
    if (skip) return;
    allowed = await pageOrigin();
    other = await pageOrigin();
    dir = mkdtempSync(path.join(tmpdir(), "shop-cors-"));
    shop = await startShop(dir, path.join(dir, "no-web"), { CORS_ORIGINS: allowed.origin });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await shop?.stop();
    allowed?.server.close();
    other?.server.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  test("an allowed origin calls over fetch (preflight, custom headers, exposed x-request-id) and WebSocket", { skip }, async () => {
    assert.ok(browser && shop && allowed);
    const page = await browser.newPage();
    await page.goto(`${allowed.origin}/`);
    const api = `${shop.url}rpc`;
    const outcome = await callFrom(page, api);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.status, 200);
    assert.equal(outcome.requestId, "cors-test-1", "x-request-id is exposed to the page");
    assert.ok(outcome.total > 0);
    assert.equal(await socketFrom(page, api.replace("http:", "ws:")), "open");
    await page.close();
  });

  test("another origin is refused by the browser, and its WebSocket by the server", { skip }, async () => {
    assert.ok(browser && shop && other);
    const page = await browser.newPage();
    await page.goto(`${other.origin}/`);
    const outcome = await callFrom(page, `${shop.url}rpc`);
    assert.ok(!outcome.ok, JSON.stringify(outcome));
    assert.match(outcome.error, /TypeError/);
    assert.equal(await socketFrom(page, `${shop.url.replace("http:", "ws:")}rpc`), "refused");
    await page.close();
  });
});
