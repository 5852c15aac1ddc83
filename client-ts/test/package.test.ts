// The package as users get it: both entry points resolve through package.json's exports, the
// HTTP-only entry does not reach the WebSocket modules, and every built file has a source map
// carrying its sources.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const pkg = path.resolve(fileURLToPath(import.meta.url), "../../.."); // .test-build/test/ → client-ts/
const dist = path.join(pkg, "dist");

/** The modules `entry` imports, transitively (relative imports of the built files). */
function reachable(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const source = readFileSync(path.join(dist, entry), "utf8");
  for (const [, spec] of source.matchAll(/from "\.\/([^"]+)"/g)) if (spec) reachable(spec, seen);
  return seen;
}

describe("the built package", () => {
  it("exposes both entry points through its exports", async () => {
    const full = await import("@accord/client");
    const http = await import("@accord/client/http");
    assert.equal(typeof full.createClient, "function");
    assert.equal(typeof http.createClient, "function");
    assert.notEqual(full.createClient, http.createClient);
    assert.equal(typeof http.retryLink, "function");
    assert.equal(http.RPC_CODES.TRANSPORT, -32099);
  });

  it("keeps the WebSocket modules out of @accord/client/http", () => {
    const modules = reachable("http.js");
    assert.ok(modules.has("http-transport.js") && modules.has("retry.js"));
    for (const ws of ["socket.js", "subscription.js", "client.js"]) assert.equal(modules.has(ws), false, `${ws} is reachable`);
  });

  it("ships a source map with its sources for every module", () => {
    const modules = readdirSync(dist).filter((f) => f.endsWith(".js"));
    assert.ok(modules.length > 5);
    for (const file of modules) {
      const source = readFileSync(path.join(dist, file), "utf8");
      assert.match(source, new RegExp(`//# sourceMappingURL=${file.replace(".", "\\.")}\\.map\\n?$`), file);
      const map = JSON.parse(readFileSync(path.join(dist, `${file}.map`), "utf8")) as { sources: string[]; sourcesContent?: string[] };
      assert.equal(map.sources.length, 1, file);
      assert.ok(map.sourcesContent?.[0]?.includes("export"), `${file}.map carries its TypeScript source`);
    }
  });
});
