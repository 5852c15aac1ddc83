// A subscription as an async iterator: buffers pushed items until pulled, reports gaps in
// stream order, and turns stream ends, aborts and early exits into the right iterator results
// and unsubscribe calls. Reconnecting and resuming happen underneath, in ./socket.ts.
import { AccordError, timeoutError, transportError } from "./errors.js";
import type { RpcId } from "./protocol.js";
import { abortReason, effectiveTimeout } from "./runtime.js";
import { emit, type LiveSubscription, type RpcSocket } from "./socket.js";
import type { EventsMissed, SubscribeOptions, Subscription } from "./types.js";

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
  /** Items, and gaps between them (AccordErrors: an item, parsed JSON, never is one). */
  const queue: Array<T | EventsMissed> = [];
  const waiters: Waiter<T>[] = [];
  const onMissed = new Set<(gap: EventsMissed) => void>();
  if (opts.onEventsMissed) onMissed.add(opts.onEventsMissed);
  let live: LiveSubscription | undefined;
  let accepted = false;
  let finished = false;
  /** Thrown once, after the buffered items, when the stream failed. */
  let failure: { error: unknown } | undefined;
  /** Settles once the server side is gone: unsubscribe acknowledged, stream ended, or socket lost. */
  let unsubscribed: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settleReady!: { resolve(id: string): void; reject(e: unknown): void };
  const ready = new Promise<string>((resolve, reject) => (settleReady = { resolve, reject }));
  ready.catch(() => undefined); // `ready` is optional to observe; the iterator reports failures

  const done = (): IteratorReturnResult<undefined> => ({ done: true, value: undefined });
  const missed = (gap: EventsMissed): void => {
    for (const listener of [...onMissed]) emit(listener, gap);
  };

  /** Ends the stream locally; `error` undefined = completed. Tells the server when asked to. */
  function finish(error: unknown, stopServer: boolean, dropBuffered: boolean): void {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (dropBuffered) queue.length = 0;
    if (stopServer && live) unsubscribed = socket.unsubscribe(live);
    if (!accepted) settleReady.reject(error ?? transportError(method, "subscription ended before it was accepted"));
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
    finish(abortReason(signal as AbortSignal), true, true);
  }

  /** Hands `entry` to a waiting `next()` (a gap: to the listeners), or queues it; past `maxBuffered` the stream ends. */
  function push(entry: T | EventsMissed): void {
    if (finished) return;
    if (waiters.length > 0 && entry instanceof AccordError) return missed(entry);
    const w = waiters.shift();
    if (w) return w.resolve({ done: false, value: entry as T });
    if (queue.length < maxBuffered) return void queue.push(entry);
    // A silent gap in a change feed is worse than a loud end: the buffered items still come first.
    const overflow = transportError(method, `subscription buffer overflow (more than ${maxBuffered} unread items)`);
    finish(overflow, true, false);
  }

  if (signal?.aborted) {
    finish(abortReason(signal), false, true);
  } else {
    signal?.addEventListener("abort", onAbort, { once: true });
    const timeoutMs = effectiveTimeout(opts.timeoutMs);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (!accepted) finish(timeoutError(method, timeoutMs), true, true);
      }, timeoutMs);
    }
    try {
      live = socket.subscribe(
        method,
        input,
        {
          accepted(id: RpcId): void {
            accepted = true;
            clearTimeout(timer);
            settleReady.resolve(String(id));
          },
          item: push as (value: unknown) => void,
          missed: push,
          end(error): void {
            finish(error ?? undefined, false, false);
          },
        },
        opts.lastEventId,
      );
    } catch (e) {
      finish(e, false, true); // e.g. an input JSON cannot encode
    }
  }

  const sub: Subscription<T> = {
    ready,
    get lastEventId(): string | undefined {
      return live?.last;
    },
    onEventsMissed(listener: (gap: EventsMissed) => void): () => void {
      onMissed.add(listener);
      return () => void onMissed.delete(listener);
    },
    next(): Promise<IteratorResult<T, undefined>> {
      while (queue.length > 0) {
        const entry = queue.shift();
        if (!(entry instanceof AccordError)) return Promise.resolve({ done: false, value: entry as T });
        missed(entry as EventsMissed);
      }
      if (failure) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (finished) return Promise.resolve(done());
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    return(): Promise<IteratorReturnResult<undefined>> {
      finish(undefined, true, true);
      failure = undefined;
      return Promise.resolve(done());
    },
    async unsubscribe(): Promise<void> {
      finish(undefined, true, true);
      failure = undefined;
      await unsubscribed;
    },
    [Symbol.asyncIterator](): Subscription<T> {
      return sub;
    },
  };
  return sub;
}
