// Processes for the multi-instance tests: todos-server instances that can be stopped (SIGTERM,
// a drain), killed (SIGKILL) and restarted on their port, and nginx in front of them, run from
// docs/nginx.conf itself so that the documented configuration is the tested one.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export const todosBin = process.env["ACCORD_TODOS_BIN"] ?? path.resolve("../target/debug/todos-server");

/** The nginx binary, or why there is none (the caller skips, or fails with ACCORD_REQUIRE_NGINX=1). */
export function findNginx(): { bin: string } | { missing: string } {
  const candidates = [process.env["NGINX_BIN"], "/usr/sbin/nginx", "/usr/bin/nginx"].filter((p): p is string => !!p);
  const bin = candidates.find((p) => existsSync(p));
  return bin ? { bin } : { missing: `no nginx (apt-get install nginx-light, or set NGINX_BIN); looked at ${candidates.join(", ")}` };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

/** One todos-server instance on a fixed port, which survives its restarts. */
export class Instance {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  port = 0;

  constructor(private readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/rpc`;
  }

  /** Starts (again, on the same port once it has one) and resolves once it listens. */
  async start(): Promise<void> {
    const child = spawn(todosBin, [], {
      env: { ...process.env, ...this.env, PORT: String(this.port), RUST_LOG: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const lines: string[] = [];
    child.stderr?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
    this.exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const exited = this.exited;
    this.port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`todos-server did not start:\n${lines.join("")}`)), 30_000);
      if (child.stdout) {
        createInterface({ input: child.stdout }).on("line", (line) => {
          const match = /listening on http:\/\/127\.0\.0\.1:(\d+)\/rpc/.exec(line);
          if (match?.[1] === undefined) return;
          clearTimeout(timer);
          resolve(Number(match[1]));
        });
      }
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`todos-server exited:\n${lines.join("")}`));
      });
    });
  }

  /** SIGTERM (a drain) or SIGKILL, and waits for the exit. */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await this.exited;
  }
}

/** docs/nginx.conf, with the upstream's `server` lines and the `listen` line rewritten. */
export function nginxConfig(upstreams: number[], listen: number): string {
  const doc = readFileSync(path.resolve(import.meta.dirname, "../../../docs/nginx.conf"), "utf8");
  const upstream = /(upstream accord \{\n)((?:.*\n)*?)(\})/.exec(doc);
  assert.ok(upstream?.[2] !== undefined, "docs/nginx.conf has an `upstream accord { ... }` block");
  const servers = [...upstream[2].matchAll(/^(\s*)server\s+\S+(.*);$/gm)];
  assert.ok(servers.length > 0, "docs/nginx.conf's upstream lists instances");
  const [indent, options] = [servers[0]?.[1] ?? "    ", servers[0]?.[2] ?? ""];
  let block = upstream[2].replace(/^\s*server\s+\S+.*;\n/gm, "");
  block = upstreams.map((port) => `${indent}server 127.0.0.1:${port}${options};\n`).join("") + block;
  const config = doc.replace(upstream[0], `${upstream[1]}${block}${upstream[3]}`);
  const listens = config.match(/^\s*listen\s+\S+;$/gm) ?? [];
  assert.equal(listens.length, 1, "docs/nginx.conf has one `listen` line");
  return config.replace(/^(\s*)listen\s+\S+;$/m, `$1listen 127.0.0.1:${listen};`);
}

/**
 * The longest nginx skips an instance that refused a connection, in ms: `fail_timeout` in
 * docs/nginx.conf, plus 1 s since nginx compares whole seconds (`now - checked <= fail_timeout`).
 */
export function nginxFailTimeoutMs(): number {
  const doc = readFileSync(path.resolve(import.meta.dirname, "../../../docs/nginx.conf"), "utf8");
  const match = /fail_timeout=(\d+)s/.exec(doc);
  return (match?.[1] === undefined ? 10_000 : Number(match[1]) * 1000) + 1000; // nginx's default: 10 s
}

/** nginx in the foreground (not a daemon) from its own directory, with docs/nginx.conf included. */
export class Nginx {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/rpc`;
  }

  static async start(bin: string, upstreams: number[]): Promise<Nginx> {
    const dir = mkdtempSync(path.join(os.tmpdir(), "accord-nginx-"));
    for (const temp of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(path.join(dir, temp));
    const port = await freePort();
    writeFileSync(path.join(dir, "accord.conf"), nginxConfig(upstreams, port));
    // As root the workers would otherwise switch to `nobody`, who cannot write our temp dirs.
    const user = process.getuid?.() === 0 ? "user root root;\n" : "";
    const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`).join("\n");
    writeFileSync(
      path.join(dir, "nginx.conf"),
      `${user}worker_processes 1;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n${temps}\n  include ${dir}/accord.conf;\n}\n`,
    );
    const args = ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`];
    const check = spawnSync(bin, [...args, "-t"], { encoding: "utf8" });
    assert.equal(check.status, 0, `nginx -t refused the configuration:\n${check.stderr}`);
    const child = spawn(bin, [...args, "-g", `daemon off; pid ${dir}/nginx.pid;`], { stdio: ["ignore", "ignore", "pipe"] });
    const nginx = new Nginx(child, dir, port);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await fetch(`http://127.0.0.1:${port}/healthz`);
        return nginx;
      } catch {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`nginx did not start:\n${nginx.errors()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** nginx's error log so far. */
  errors(): string {
    const log = path.join(this.dir, "error.log");
    return existsSync(log) ? readFileSync(log, "utf8") : "";
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
      this.child.kill("SIGQUIT"); // graceful: lets open WebSockets go
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
