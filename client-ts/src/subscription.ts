// A subscription as an async iterator: buffers pushed items until pulled and turns stream ends,
// aborts and early exits into the right iterator results and unsubscribe calls.
import { timeoutError, transportError, type AccordError } from "./errors.js";
import type { RpcId } from "./protocol.js";
import { abortReason, effectiveTimeout } from "./runtime.js";
import type { RpcSocket, SubscriptionSink } from "./socket.js";
import type { SubscribeOptions, Subscription } from "./types.js";

export const DEFAULT_MAX_BUFFERED = 1024;

interface Waiter<T> {
  resolve(r: IteratorResult<T, undefined>): void;
  reject(e: unknown): void;
}

export function openSubscription<T>(
  socket: RpcSocket,
  method: string,
  input: unknown,
  opts: SubscribeOptions,
): Subscription<T> {
  const maxBuffered = Math.max(1, opts.maxBuffered ?? DEFAULT_MAX_BUFFERED);
  const { signal } = opts;
  const queue: T[] = [];
  const waiters: Waiter<T>[] = [];
  let finished = false;
  /** Thrown once, after the buffered items, when the stream failed. */
  let failure: { error: unknown } | undefined;
  let subId: RpcId | undefined;
  /** Settles once the server side is gone: unsubscribe acknowledged, stream ended, or socket lost. */
  let unsubscribed: Promise<void> = Promise.resolve();
  let serverGone: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settleReady: { resolve(id: string): void; reject(e: unknown): void } | undefined;
  const ready = new Promise<string>((resolve, reject) => (settleReady = { resolve, reject }));
  ready.catch(() => undefined); // `ready` is optional to observe; the iterator reports failures

  const done = (): IteratorReturnResult<undefined> => ({ done: true, value: undefined });

  /** Ends the stream locally; `error` undefined = completed. Tells the server when asked to. */
  function finish(error: unknown, opt: { stopServer: boolean; dropBuffered: boolean }): void {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (opt.dropBuffered) queue.length = 0;
    if (opt.stopServer) {
      // Before acceptance, `accepted` below sends the unsubscribe once the id is known.
      if (subId !== undefined) unsubscribed = socket.unsubscribe(method, subId);
      else unsubscribed = new Promise((resolve) => (serverGone = resolve));
    }
    if (subId === undefined) settleReady?.reject(error ?? transportError(method, "subscription ended before it was accepted"));
    if (error !== undefined) failure = { error };
    // Waiters only exist while the buffer is empty, so they get the end directly.
    for (const w of waiters.splice(0)) {
      if (failure) {
        w.reject(failure.error);
        failure = undefined;
      } else w.resolve(done());
    }
  }

  function onAbort(): void {
    finish(abortReason(signal as AbortSignal), { stopServer: true, dropBuffered: true });
  }

  const sink: SubscriptionSink = {
    accepted(id: RpcId): void {
      subId = id;
      if (timer !== undefined) clearTimeout(timer);
      settleReady?.resolve(String(id));
      if (finished) void socket.unsubscribe(method, id).then(serverGone);
    },
    item(value: unknown): void {
      if (finished) return;
      const w = waiters.shift();
      if (w) return w.resolve({ done: false, value: value as T });
      if (queue.length < maxBuffered) return void queue.push(value as T);
      // A silent gap in a change feed is worse than a loud end: the buffered items still come first.
      const overflow = transportError(method, `subscription buffer overflow (more than ${maxBuffered} unread items)`);
      finish(overflow, { stopServer: true, dropBuffered: false });
    },
    end(error: AccordError | null): void {
      serverGone?.();
      finish(error ?? undefined, { stopServer: false, dropBuffered: false });
    },
  };

  if (signal?.aborted) {
    finish(abortReason(signal), { stopServer: false, dropBuffered: true });
  } else {
    signal?.addEventListener("abort", onAbort, { once: true });
    const timeoutMs = effectiveTimeout(opts.timeoutMs);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (subId === undefined) finish(timeoutError(method, timeoutMs), { stopServer: true, dropBuffered: true });
      }, timeoutMs);
    }
    try {
      socket.subscribe(method, input, sink);
    } catch (e) {
      finish(e, { stopServer: false, dropBuffered: true }); // e.g. an input JSON cannot encode
    }
  }

  const sub: Subscription<T> = {
    ready,
    next(): Promise<IteratorResult<T, undefined>> {
      if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift() as T });
      if (failure) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (finished) return Promise.resolve(done());
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    return(): Promise<IteratorReturnResult<undefined>> {
      finish(undefined, { stopServer: true, dropBuffered: true });
      failure = undefined;
      return Promise.resolve(done());
    },
    async unsubscribe(): Promise<void> {
      finish(undefined, { stopServer: true, dropBuffered: true });
      failure = undefined;
      await unsubscribed;
    },
    [Symbol.asyncIterator](): Subscription<T> {
      return sub;
    },
  };
  return sub;
}
