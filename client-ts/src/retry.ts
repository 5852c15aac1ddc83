// Retries, as a link: calls that are safe to repeat, failing in a way that says "try again", are
// sent again after exponential backoff with full jitter (or the server's retryAfterMs), within
// the call's deadline. The Rust client applies the same policy (procedures/src/client/retry.rs).
import { isAccordError } from "./errors.js";
import type { Link, Operation } from "./link.js";

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  attempts?: number | undefined;
  /** Bound of the first backoff delay, doubling per retry. Default 100 ms. */
  baseDelayMs?: number | undefined;
  /** Largest backoff delay (a server's `retryAfterMs` may ask for longer). Default 2000 ms. */
  maxDelayMs?: number | undefined;
  /** Whether to retry after `error`; default {@link isRetryable}. Replacing it makes you responsible for mutations. */
  retryOn?: ((error: unknown, op: Operation) => boolean) | undefined;
}

/**
 * The default retry decision: only for operations that are safe to repeat (queries,
 * idempotent mutations), on `UNAVAILABLE`, `OVERLOADED`, `RATE_LIMITED`, and `TRANSPORT`
 * failures that are not a client error status (a network error, a gateway's 5xx, 408, 429).
 */
export function isRetryable(error: unknown, op: Operation): boolean {
  if (!op.idempotent || !isAccordError(error)) return false;
  const { code } = error;
  if (code !== "TRANSPORT") return code === "UNAVAILABLE" || code === "OVERLOADED" || code === "RATE_LIMITED";
  const status = error.httpStatus;
  return status === undefined || status > 499 || status === 408 || status === 429;
}

function retryAfter(error: unknown): number | undefined {
  const ms = isAccordError(error) ? error.data["retryAfterMs" as keyof typeof error.data] : undefined;
  return typeof ms === "number" && ms >= 0 ? ms : undefined;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The retry link. The client puts one first in its chain (`retry` option); pass `retry: false`
 * and place `retryLink()` yourself to run some links once per call instead of once per attempt.
 */
export function retryLink(defaults: RetryOptions = {}): Link {
  return async (op, next) => {
    const o: RetryOptions = op.retry === false ? { attempts: 1 } : { ...defaults, ...op.retry };
    for (let attempt = 1; ; attempt++) {
      try {
        return await next({ ...op, attempt, headers: { ...op.headers } });
      } catch (error) {
        if (attempt >= (o.attempts ?? 3) || op.signal.aborted || !(o.retryOn ?? isRetryable)(error, op)) throw error;
        const bound = Math.min(o.maxDelayMs ?? 2000, (o.baseDelayMs ?? 100) * 2 ** (attempt - 1));
        const wait = retryAfter(error) ?? Math.random() * bound;
        if (op.deadline !== undefined && Date.now() + wait >= op.deadline) throw error;
        await sleep(wait, op.signal);
      }
    }
  };
}
