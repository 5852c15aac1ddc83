// The chain every query and mutation passes through: links (middleware around the call) in
// order, then the transport. Auth headers, token refresh, logging, tracing and retries are links.
import type { RetryOptions } from "./retry.js";

/** One call (one attempt, once it reaches links after the retry link) on its way to the server. */
export interface Operation {
  /** The wire method, `namespace.method`. */
  readonly method: string;
  readonly kind: "query" | "mutation";
  /** Safe to send again after a failure: a query, or a mutation declared `#[mutation(idempotent)]`. */
  readonly idempotent: boolean;
  /** The input (`undefined` for procedures without one). */
  readonly input: unknown;
  /** HTTP headers of this attempt, lower-case names; a link may add or replace some. Not sent over WebSocket. */
  readonly headers: Record<string, string>;
  /** Aborts when the caller aborts or the deadline passes. */
  readonly signal: AbortSignal;
  /** When the caller stops waiting (`Date.now()` ms), if it set a deadline. The transport sends the time left. */
  readonly deadline: number | undefined;
  /** 1 for the first attempt (set by the retry link). */
  readonly attempt: number;
  /** The call's `retry` option. */
  readonly retry: RetryOptions | false | undefined;
  /** The call's `context` option, for your links. */
  readonly context: Readonly<Record<string, unknown>>;
}

/** Passes an operation on down the chain; resolves with the call's result. */
export type Next = (op: Operation) => Promise<unknown>;

/**
 * Middleware around every query and mutation: it may change the operation (a copy:
 * `next({ ...op, headers: { ...op.headers, authorization } })`), call `next` (once, several
 * times, or not at all), and observe or replace the result or error.
 */
export type Link = (op: Operation, next: Next) => Promise<unknown>;

/** Runs `links` in order around `terminal`. */
export function chain(links: readonly Link[], terminal: Next): Next {
  return links.reduceRight<Next>((next, link) => (op) => link(op, next), terminal);
}
