// The todos app in a real browser against a real todos server: builds the app from src/ into a
// temporary directory, starts the server binary serving it, and drives headless Chromium through
// adding, toggling and failing to add a todo, while another client's changes arrive live; then
// restarts the server under the page and checks that it says so and recovers by itself.
//
//   TODOS_BIN       the server binary (default <repo>/target/debug/todos-server; `cargo build -p todos-server`)
//   CHROMIUM_PATH   the browser (default /usr/bin/chromium; `apt-get install chromium`)
//   ACCORD_REQUIRE_BROWSER=1   a missing browser fails the test instead of skipping it (CI)
//
// On a failure the page is saved to test-results/<test name>.png.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "@accord/client/http";
import { chromium, type Browser, type Page } from "playwright-core";
import { procedures, type Procedures } from "../src/api/index.js";

const webDir = path.resolve(fileURLToPath(import.meta.url), "../../.."); // .test-build/test/ → web/
const repoRoot = path.resolve(webDir, "../../..");
const resultsDir = path.join(webDir, "test-results");
const serverBin = process.env.TODOS_BIN ?? path.join(repoRoot, "target/debug/todos-server");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const requireBrowser = process.env.ACCORD_REQUIRE_BROWSER === "1";
const noBrowser = existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`;
const skip = noBrowser !== null && !requireBrowser ? noBrowser : false;
if (skip) console.log(`# skipping the browser test: ${skip}`);

type Running = { url: string; stop(): Promise<void>; output(): string };

/** Starts the todos server serving `webOut` on `port` (0: a free one) and waits for its address. */
async function startServer(webOut: string, port = 0): Promise<Running> {
  if (!existsSync(serverBin)) assert.fail(`no todos server at ${serverBin}: run \`cargo build -p todos-server\` (or set TODOS_BIN)`);
  const child = spawn(serverBin, [], {
    // In process, whatever REDIS_URL says: the restart test needs the events to be lost with the
    // process (and other runs' events must not reach this page).
    env: { ...process.env, PORT: String(port), TODOS_WEB_DIR: webOut, RUST_LOG: "warn", REDIS_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const output = (): string => lines.join("\n");
  child.stderr.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trimEnd().split("\n")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not say "listening on" within 30 s:\n${output()}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/rpc/.exec(line);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${output()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${bound}/`,
    output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

describe("the todos app in headless Chromium", { timeout: 120_000 }, () => {
  let dir = "";
  let webOut = "";
  let server: Running | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (skip) return;
    if (noBrowser !== null) assert.fail(`${noBrowser}. (ACCORD_REQUIRE_BROWSER=1: this is a failure, not a skip.)`);
    dir = mkdtempSync(path.join(tmpdir(), "todos-e2e-"));
    webOut = path.join(dir, "web");
    execFileSync(process.execPath, [path.join(webDir, "build.mjs"), "--outdir", webOut], { stdio: "pipe" });
    server = await startServer(webOut);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `body` on a fresh page; on failure saves a screenshot and prints the page's errors. */
  async function withPage(t: TestContext, body: (page: Page, base: string, errors: string[]) => Promise<void>): Promise<void> {
    assert.ok(browser && server, "set up by before()");
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    try {
      await body(page, server.url, errors);
    } catch (error) {
      mkdirSync(resultsDir, { recursive: true });
      const file = path.join(resultsDir, `${t.name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "")}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.log(`# screenshot: ${file}\n# the page reported:\n${errors.map((e) => `#   ${e}`).join("\n")}`);
      console.log(`# the server's output:\n${server.output().replace(/^/gm, "#   ")}`);
      throw error;
    } finally {
      await context.close();
    }
  }

  const item = (page: Page, title: string) => page.locator("li.todo", { hasText: title });

  test("adds, toggles and deletes todos, with typed errors and live changes from elsewhere", { skip }, async (t) => {
    await withPage(t, async (page, base, errors) => {
      await page.goto(base);
      await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });

      // Add through the form: the list and the stats follow.
      await page.fill('input[name="title"]', "Buy milk #shopping");
      await page.press('input[name="title"]', "Enter");
      await item(page, "Buy milk").waitFor();
      assert.equal(await item(page, "Buy milk").locator("small").textContent(), "#shopping");
      await page.locator(".stats", { hasText: "1 todo, 0 done" }).waitFor();

      // Toggle (an idempotent mutation): the server's event marks it done.
      await item(page, "Buy milk").locator('input[type="checkbox"]').click();
      await page.locator("li.todo.done", { hasText: "Buy milk" }).waitFor();
      await page.locator(".stats", { hasText: "1 todo, 1 done" }).waitFor();

      // A typed domain error, shown by the form.
      await page.fill('input[name="title"]', "Walk the dog");
      await page.press('input[name="title"]', "Enter");
      await item(page, "Walk the dog").waitFor();
      await page.fill('input[name="title"]', "Walk the dog");
      await page.press('input[name="title"]', "Enter");
      await page.locator('form [role="alert"]', { hasText: 'An open todo is already titled "Walk the dog"' }).waitFor();

      // Another client's changes arrive live, without a reload.
      const other = createClient<Procedures>({ url: `${base}rpc`, procedures });
      const elsewhere = await other.todos.create({ title: "Made elsewhere", priority: "high" });
      await page.locator("li.todo.priority-high", { hasText: "Made elsewhere" }).waitFor();
      await other.todos.update({ id: elsewhere.id, title: "Renamed elsewhere" });
      await item(page, "Renamed elsewhere").waitFor();
      await other.todos.delete({ id: elsewhere.id });
      await item(page, "Renamed elsewhere").waitFor({ state: "detached" });

      // Delete from the page.
      await item(page, "Walk the dog").getByRole("button", { name: "Delete" }).click();
      await item(page, "Walk the dog").waitFor({ state: "detached" });
      await page.locator(".stats", { hasText: "1 todo, 1 done" }).waitFor();

      // A second page sees the same list (loaded, then live).
      const second = await page.context().newPage();
      await second.goto(base);
      await second.locator('[data-live="live"]').waitFor();
      await second.locator("li.todo.done", { hasText: "Buy milk" }).waitFor();
      await page.fill('input[name="title"]', "Seen on both");
      await page.press('input[name="title"]', "Enter");
      await item(second, "Seen on both").waitFor();

      assert.deepEqual(errors, [], "the page logged no errors");
    });
  });
  test("says it is reconnecting while the server restarts, then refetches and is live again, without a reload", { skip }, async (t) => {
    await withPage(t, async (page, base, errors) => {
      await page.goto(base);
      await page.locator('[data-live="live"]').waitFor({ timeout: 10_000 });
      await page.fill('input[name="title"]', "Before the restart");
      await page.press('input[name="title"]', "Enter");
      await item(page, "Before the restart").waitFor();
      await page.evaluate(() => Object.assign(window, { loadedOnce: true }));

      assert.ok(server);
      const port = Number(new URL(base).port);
      await server.stop();
      await page.locator('[data-live="reconnecting"]', { hasText: "Reconnecting…" }).waitFor({ timeout: 10_000 });

      server = await startServer(webOut, port);
      await page.locator('[data-live="live"]').waitFor({ timeout: 20_000 });
      // The todos lived in the old process's memory: told that changes were missed, the app
      // refetched the list, and the old one is gone from the page.
      await item(page, "Before the restart").waitFor({ state: "detached", timeout: 10_000 });
      await page.locator(".stats", { hasText: "0 todos, 0 done" }).waitFor();

      // And it is live again: another client's change appears.
      const other = createClient<Procedures>({ url: `${base}rpc`, procedures });
      await other.todos.create({ title: "After the restart" });
      await item(page, "After the restart").waitFor();
      assert.equal(await page.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce), true, "the page was not reloaded");
      // While the server was down the browser logged its failed connection attempts; nothing else.
      assert.deepEqual(
        errors.filter((e) => !/WebSocket connection to '[^']+' failed/.test(e)),
        [],
      );
    });
  });
});
