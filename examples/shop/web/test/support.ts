// What the browser tests share: the shop binary started on a fresh database, Chromium, and polling.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

export const webDir = path.resolve(fileURLToPath(import.meta.url), "../../.."); // .test-build/test/ → web/
export const repoRoot = path.resolve(webDir, "../../..");
export const resultsDir = path.join(webDir, "test-results");
const shopBin = process.env.SHOP_BIN ?? path.join(repoRoot, "target/debug/shop");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const requireBrowser = process.env.ACCORD_REQUIRE_BROWSER === "1";
export const noBrowser = existsSync(chromiumPath) ? null : `no Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH)`;
/** Why the browser tests skip, or false when they run. */
export const skip = noBrowser !== null && !requireBrowser ? noBrowser : false;

/** Launches headless Chromium (failing, not skipping, when ACCORD_REQUIRE_BROWSER=1 and it is missing). */
export async function launchChromium(): Promise<Browser> {
  if (noBrowser !== null) assert.fail(`${noBrowser}. (ACCORD_REQUIRE_BROWSER=1: this is a failure, not a skip.)`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Polls `check` every 100 ms until it is true; fails with `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export type RunningShop = { url: string; stop(): Promise<void>; output(): string };

/**
 * Starts the shop binary and waits (up to 60 s: it seeds the demo data first) for its address;
 * `env` overrides the defaults (`PORT` 0: a free port; `SHOP_FULFILMENT_STEP_MS` 300).
 */
export async function startShop(dir: string, webOut: string, env: Record<string, string> = {}): Promise<RunningShop> {
  if (!existsSync(shopBin)) assert.fail(`no shop server at ${shopBin}: run \`cargo build -p shop\` (or set SHOP_BIN)`);
  const child = spawn(shopBin, [], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: "0",
      DATABASE_URL: `sqlite://${path.join(dir, "shop.db")}`,
      SHOP_FULFILMENT_STEP_MS: "300",
      SHOP_WEB_DIR: webOut,
      REDIS_URL: "", // in process: events of other runs' shops (same user ids) must not reach this page
      RUST_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const output = (): string => lines.join("\n");
  child.stderr.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trimEnd().split("\n")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the shop did not say "listening on" within 60 s; its output:\n${output()}`)), 60_000);
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
      reject(new Error(`the shop exited (${code}) before listening; its output:\n${output()}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/`,
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
