// Size budgets of @accord/client, measured the way an app pays for it: a small app importing
// the built package (dist/), bundled by esbuild with minification, then gzipped (level 9).
//
//   node scripts/size.mjs            # prints the sizes; exits 1 when a budget is exceeded
//   node scripts/size.mjs --json     # the same as JSON
//
// Run after `npm run build` (`npm run size` does both).

import { gzipSync } from "node:zlib";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, "..");

/** Each app: what it imports and does, and its budget in bytes (min+gz). */
const apps = [
  {
    name: "full client, one query + one subscription (@accord/client)",
    budget: 6.5 * 1024,
    source: `
      import { createClient } from "@accord/client";
      const client = createClient({ url: "/rpc", procedures: { todos: { get: "query", changes: "subscription" } } });
      client.todos.get({ id: 1 }).then(console.log);
      for await (const event of client.todos.changes()) console.log(event);
    `,
  },
  {
    name: "HTTP only, one query (@accord/client/http)",
    budget: 3.5 * 1024,
    source: `
      import { createClient } from "@accord/client/http";
      const client = createClient({ url: "/rpc", procedures: { todos: { get: "query" } } });
      client.todos.get({ id: 1 }).then(console.log);
    `,
  },
];

const results = [];
for (const app of apps) {
  const out = await esbuild.build({
    stdin: { contents: app.source, resolveDir: pkg, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    write: false,
    legalComments: "none",
    alias: { "@accord/client/http": path.join(pkg, "dist/http.js"), "@accord/client": path.join(pkg, "dist/index.js") },
    logLevel: "error",
  });
  const code = out.outputFiles[0].contents;
  if (app.name.includes("HTTP only") && /WebSocket/.test(Buffer.from(code).toString())) {
    throw new Error("size.mjs: the HTTP-only bundle contains WebSocket code");
  }
  results.push({ name: app.name, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, budget: app.budget });
}

if (process.argv.includes("--json")) console.log(JSON.stringify(results, null, 2));
else for (const r of results) console.log(`${(r.gzipped / 1024).toFixed(2)} KB min+gz (${(r.minified / 1024).toFixed(1)} KB min), budget ${(r.budget / 1024).toFixed(1)} KB: ${r.name}`);
const over = results.filter((r) => r.gzipped > r.budget);
for (const r of over) console.error(`over budget by ${r.gzipped - r.budget} bytes: ${r.name}`);
process.exit(over.length > 0 ? 1 : 0);
