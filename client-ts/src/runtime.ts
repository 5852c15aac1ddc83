// The only platform globals the package touches (fetch, WebSocket, crypto, timers), behind
// minimal structural types so browsers, Node, Deno, Bun, edge runtimes and injected doubles all fit.
import { timeoutError } from "./errors.js";

/** Makes a function type's parameters bivariant, so DOM, undici and `ws` signatures all fit. */
type Bivariant<F extends (...args: never[]) => unknown> = {
  bivarianceHack(...args: Parameters<F>): ReturnType<F>;
}["bivarianceHack"];

export interface FetchInit {
  method: "POST";
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export interface ResponseLike {
  readonly status: number;
  text(): Promise<string>;
}

/** What the client needs of `fetch`; the global `fetch` satisfies it. */
export type FetchLike = (url: string, init: FetchInit) => Promise<ResponseLike>;

/** What the client needs of a WebSocket; the browser/undici `WebSocket` and `ws` satisfy it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Bivariant<(event: unknown) => void> | null;
  onmessage: Bivariant<(event: { readonly data: unknown }) => void> | null;
  onerror: Bivariant<(event: unknown) => void> | null;
  onclose: Bivariant<(event: { readonly code: number; readonly reason: string }) => void> | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Platform globals, typed as optional because any of them may be missing. */
interface Globals {
  fetch?: FetchLike;
  WebSocket?: WebSocketConstructor;
  crypto?: { randomUUID?: () => string };
  location?: { href: string };
  DOMException?: new (message: string, name: string) => Error;
}

const g = globalThis as unknown as Globals;

export function resolveFetch(injected: FetchLike | undefined): FetchLike | undefined {
  if (injected) return injected;
  // Called through globalThis: a detached browser fetch throws "Illegal invocation".
  return typeof g.fetch === "function" ? (url, init) => (globalThis as unknown as Required<Globals>).fetch(url, init) : undefined;
}

export function resolveWebSocket(injected: WebSocketConstructor | undefined): WebSocketConstructor | undefined {
  return injected ?? (typeof g.WebSocket === "function" ? g.WebSocket : undefined);
}

/** Absolute URL for `url`; relative ones resolve against the page (browsers) when there is one. */
export function absoluteUrl(url: string): URL {
  return g.location ? new URL(url, g.location.href) : new URL(url);
}

/** A request id: a UUID where the platform makes them, else a random base-36 string. */
export function randomId(): string {
  return g.crypto?.randomUUID?.() ?? Date.now().toString(36) + Math.random().toString(36).slice(2);
}

/** The value an aborted call rejects with: the signal's reason, like `fetch` does. */
export function abortReason(signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason;
  if (g.DOMException) return new g.DOMException("This operation was aborted", "AbortError");
  return Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
}

/** Deadline in ms, or undefined when there is none. */
export function effectiveTimeout(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/**
 * Runs `run` under the caller's signal and timeout: the returned promise settles with the first
 * of the result, the abort reason or a TIMEOUT error, and `run`'s signal aborts on the latter two.
 */
export function guard<T>(
  method: string,
  opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined; requestId?: string | undefined },
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const ctl = new AbortController();
    const timeoutMs = effectiveTimeout(opts.timeoutMs);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (err: unknown): void => {
      cleanup();
      reject(err);
      ctl.abort(err);
    };
    const onAbort = (): void => fail(abortReason(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => fail(timeoutError(method, timeoutMs, opts.requestId)), timeoutMs);
    let running: Promise<T>;
    try {
      running = run(ctl.signal);
    } catch (e) {
      running = Promise.reject(e);
    }
    running.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}
