// W3C trace context for calls, so a browser action can be followed through the server (whose
// OpenTelemetry spans continue `traceparent`) into its database. No dependency: give it the
// current context of your tracing library, or let it start a new trace per call.

/** The W3C trace context headers of one call. */
export interface TraceContext {
  /** `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. */
  readonly traceparent: string;
  readonly tracestate?: string | undefined;
}

const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

function randomHex(bytes: number): string {
  const values = new Uint8Array(bytes);
  const c = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(values);
  else for (let i = 0; i < bytes; i++) values[i] = Math.floor(Math.random() * 256);
  // An all-zero id is invalid; the odds are nil, the fix is cheap.
  if (values.every((v) => v === 0)) values[bytes - 1] = 1;
  return Array.from(values, (v) => v.toString(16).padStart(2, "0")).join("");
}

/** Whether `value` is a valid version-00 `traceparent`. */
export function isTraceparent(value: string): boolean {
  return TRACEPARENT.test(value);
}

/** A new trace: a random trace id and span id, sampled (`-01`) unless `sampled` is false. */
export function newTraceContext(sampled = true): TraceContext {
  return { traceparent: `00-${randomHex(16)}-${randomHex(8)}-${sampled ? "01" : "00"}` };
}

/** Where a call's trace context comes from: your tracer's active span, else a new trace. */
export type TraceSource = () => TraceContext | undefined;

/**
 * The headers carrying a call's trace context: for the client's `headers` option
 * (`headers: () => traceHeaders(activeContext)`), so every HTTP call continues (or starts) a trace.
 * An invalid context from `source` is replaced by a new trace rather than sent.
 */
export function traceHeaders(source?: TraceSource): Record<string, string> {
  const context = source?.();
  const valid = context && isTraceparent(context.traceparent) ? context : newTraceContext();
  return valid.tracestate === undefined
    ? { traceparent: valid.traceparent }
    : { traceparent: valid.traceparent, tracestate: valid.tracestate };
}

/**
 * A link for the client's link chain that adds the trace headers to each call, unless the call
 * already carries a `traceparent`. It is generic over the operation, so it fits any chain whose
 * operations have `headers`.
 */
export function traceLink(source?: TraceSource) {
  return <Op extends { readonly headers: Readonly<Record<string, string>> }, R>(
    op: Op,
    next: (op: Op) => Promise<R>,
  ): Promise<R> =>
    op.headers["traceparent"] !== undefined ? next(op) : next({ ...op, headers: { ...op.headers, ...traceHeaders(source) } });
}
