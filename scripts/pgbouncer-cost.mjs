// What the shop's PgBouncer workaround costs (docs/deployment.md, "PgBouncer"): starts the shop
// binary twice on fresh schemas, once straight on PostgreSQL and once through PgBouncer with
// DB_PGBOUNCER=1, and times N sequential `products.list` calls (a query that always reaches the
// database: two statements, page and count) against each. Run it through scripts/with-pgbouncer:
//   cargo build -p shop && DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//     scripts/with-pgbouncer node scripts/pgbouncer-cost.mjs [N]
// Prints the latency percentiles per setup. A measurement, not a test: nothing is asserted.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const direct = process.env.DATABASE_DIRECT_URL;
const pooled = process.env.DATABASE_URL;
if (!direct || process.env.DB_PGBOUNCER !== "1") {
  console.error("run it through scripts/with-pgbouncer (it sets DATABASE_URL, DATABASE_DIRECT_URL, DB_PGBOUNCER)");
  process.exit(2);
}
const n = Number(process.argv[2] ?? 2000);
const bin = new URL("../target/debug/shop", import.meta.url).pathname;

function start(env) {
  const child = spawn(bin, [], { env: { ...process.env, PORT: "0", RUST_LOG: "error", SHOP_WEB_DIR: "/nonexistent", ...env }, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const url = /listening on (http:\/\/\S+\/rpc)/.exec(line)?.[1];
      if (url) resolve({ url, child });
    });
    child.once("exit", (code) => reject(new Error(`shop exited with ${code}`)));
  });
}

async function measure(url) {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "products.list", params: { search: "a" } });
  const call = async () => {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const reply = await res.json();
    if (reply.error) throw new Error(JSON.stringify(reply.error));
  };
  for (let i = 0; i < 100; i++) await call(); // warm the pools and the statement cache
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))].toFixed(2);
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms`;
}

const schema = `shop_cost_${process.pid}`;
const setups = [
  ["PostgreSQL directly (named, cached statements)", { DATABASE_URL: direct, DB_PGBOUNCER: "0", DATABASE_SCHEMA: `${schema}_direct` }],
  ["PgBouncer, transaction pooling (DB_PGBOUNCER=1)", { DATABASE_URL: pooled, DB_PGBOUNCER: "1", DATABASE_SCHEMA: `${schema}_pooled` }],
];
for (const [label, env] of setups) {
  const { url, child } = await start(env);
  try {
    console.log(`${label}: ${n} sequential products.list: ${await measure(url)}`);
  } finally {
    child.kill("SIGTERM");
  }
}
console.log(`(schemas ${schema}_direct and ${schema}_pooled are left in the database: DROP SCHEMA ... CASCADE)`);
