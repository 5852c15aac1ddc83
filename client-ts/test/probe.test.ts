// Against a live probe server (examples/probe: `cargo run -p accord-probe --bin probe-server`):
// batching counted in HTTP requests on the server, retries seen by the server with their
// backoff, a mutation not retried, and deadlines that cancel server work.
//
//   ACCORD_PROBE_URL=http://127.0.0.1:3300/rpc npm test -w client-ts
//
// Skipped when the variable is unset. The types are the probe's generated bindings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { createClient, isAccordError } from "../src/index.js";
import { procedures, type Procedures, type SleepReport } from "./probe-api/index.js";
import { rejection } from "./support.js";

const url = process.env["ACCORD_PROBE_URL"];
const skip = url ? false : "ACCORD_PROBE_URL not set";
if (!url) console.log("# skipped: ACCORD_PROBE_URL not set");

type Options = Parameters<typeof createClient<Procedures>>[0];
const clientFor = (extra: Partial<Options> = {}) => createClient<Procedures>({ url: url ?? "", procedures, WebSocket, timeoutMs: 10_000, ...extra });
const unique = (name: string): string => `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** Polls the probe until the sleep with `key` is no longer running. */
async function sleepOutcome(key: string): Promise<SleepReport["state"]> {
  const client = clientFor();
  for (let i = 0; i < 100; i++) {
    const report = await client.probe.sleepReport({ key });
    if (report.state !== "running") return report.state;
    await new Promise((r) => setTimeout(r, 20));
  }
  return "running";
}

describe("against the live probe server", { skip, timeout: 30_000 }, () => {
  it("sends calls made in one tick as one HTTP request (counted by the server)", async () => {
    const client = clientFor();
    const before = (await client.probe.whoami()).httpRequests;
    const texts = Array.from({ length: 20 }, (_, i) => `call ${i}`);
    const echoed = await Promise.all(texts.map((text) => client.probe.echo({ text })));
    assert.deepEqual(echoed.map((e) => e.text), texts);
    const after = (await client.probe.whoami()).httpRequests;
    assert.equal(after - before, 2, "one request for the 20 calls, one for this whoami");

    const unbatched = clientFor({ batch: false });
    const start = (await unbatched.probe.whoami()).httpRequests;
    await Promise.all(texts.map((text) => unbatched.probe.echo({ text })));
    assert.equal((await unbatched.probe.whoami()).httpRequests - start, 21);

    // A refused call in a batch fails alone.
    const [ok, refused] = await Promise.allSettled([client.probe.echo({ text: "a" }), client.probe.echo({ text: "refuse" })]);
    assert.equal(ok.status, "fulfilled");
    assert.ok(refused.status === "rejected" && client.probe.echo.isError(refused.reason) && refused.reason.code === "REFUSED");
  });

  it("retries a query, waiting the server's retryAfterMs between attempts", async () => {
    const client = clientFor();
    const key = unique("rl");
    const seen = await client.probe.flaky({ key, failures: 2, failure: "RATE_LIMITED", retryAfterMs: 200 });
    assert.equal(seen.atMs.length, 3);
    const [a = 0, b = 0, c = 0] = seen.atMs;
    assert.ok(b - a >= 195 && c - b >= 195, `attempts at ${seen.atMs.join(", ")} ms`);

    // Without retryAfterMs: exponential backoff, still retried.
    const backoff = await client.probe.flaky({ key: unique("un"), failures: 2, failure: "UNAVAILABLE", retryAfterMs: null });
    assert.equal(backoff.atMs.length, 3);
  });

  it("never retries a mutation that is not idempotent, and retries one that is", async () => {
    const client = clientFor();
    const key = unique("write");
    const e = await rejection(client.probe.flakyWrite({ key, failures: 1, failure: "UNAVAILABLE", retryAfterMs: null }));
    assert.ok(client.probe.flakyWrite.isError(e) && e.code === "UNAVAILABLE");
    assert.equal((await client.probe.attempts({ key })).atMs.length, 1, "the server saw it once");

    const put = await client.probe.flakyPut({ key: unique("put"), failures: 1, failure: "OVERLOADED", retryAfterMs: null });
    assert.equal(put.atMs.length, 2);
  });

  it("sends the deadline over HTTP, and the server cancels work nobody waits for", async () => {
    const client = clientFor();
    const told = (await client.probe.whoami(undefined, { timeoutMs: 1_500 })).deadlineMs;
    assert.ok(told != null && told > 1_000 && told <= 1_500, `the server was given ${told} ms`);

    const key = unique("sleep");
    const started = Date.now();
    const e = await rejection(client.probe.sleep({ key, ms: 5_000 }, { timeoutMs: 300 }));
    assert.ok(isAccordError(e) && e.code === "TIMEOUT");
    assert.ok(Date.now() - started < 1_500);
    assert.equal(await sleepOutcome(key), "cancelled");
  });

  it("batches calls with their own deadlines", async () => {
    const client = clientFor();
    const [short, long] = await Promise.all([
      client.probe.whoami(undefined, { timeoutMs: 1_000 }),
      client.probe.whoami(undefined, { timeoutMs: 4_000 }),
    ]);
    assert.ok(long.deadlineMs != null && long.deadlineMs > 3_000 && long.deadlineMs <= 4_000);
    // Each entry's own meta.timeoutMs: the short one is not given the long one's time.
    assert.ok(short.deadlineMs != null && short.deadlineMs > 500 && short.deadlineMs <= 1_000, `${short.deadlineMs}`);
  });

  it("sends the deadline over WebSocket as meta.timeoutMs", async () => {
    const client = clientFor({ transport: "ws" });
    try {
      const told = (await client.probe.whoami(undefined, { timeoutMs: 1_500 })).deadlineMs;
      assert.ok(told != null && told > 1_000 && told <= 1_500, `the server was given ${told} ms`);
      const key = unique("ws-sleep");
      await rejection(client.probe.sleep({ key, ms: 5_000 }, { timeoutMs: 300 }));
      assert.equal(await sleepOutcome(key), "cancelled");
    } finally {
      client.close();
    }
  });

  it("over WebSocket, retries queries and not plain mutations either", async () => {
    const client = clientFor({ transport: "ws" });
    try {
      const seen = await client.probe.flaky({ key: unique("wsq"), failures: 1, failure: "UNAVAILABLE", retryAfterMs: 10 });
      assert.equal(seen.atMs.length, 2);
      const key = unique("wsw");
      await rejection(client.probe.flakyWrite({ key, failures: 1, failure: "UNAVAILABLE", retryAfterMs: 10 }));
      assert.equal((await client.probe.attempts({ key })).atMs.length, 1);
    } finally {
      client.close();
    }
  });
});
