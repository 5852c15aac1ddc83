//! What a server can be told: limits for the whole server and a [`Policy`] per procedure.
//!
//! Every default is chosen to be safe in production and is listed in the README's table.

use std::time::Duration;

use crate::rate_limit::RateLimit;

/// Server-wide limits and connection timeouts. Each protects against something a client can
/// do; the README's table says what.
#[derive(Clone, Debug)]
pub struct Limits {
    pub(crate) max_request_body_bytes: u32,
    pub(crate) max_response_body_bytes: u32,
    pub(crate) max_connections: usize,
    pub(crate) max_batch_len: u32,
    pub(crate) batch_concurrency: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) max_subscriptions_per_connection: u32,
    pub(crate) max_calls_per_connection: usize,
    pub(crate) header_read_timeout: Duration,
    pub(crate) body_read_timeout: Duration,
    pub(crate) min_body_rate: crate::body::MinRate,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) ws_ping_interval: Duration,
    pub(crate) ws_idle_timeout: Duration,
    pub(crate) reauthenticate_every: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_body_bytes: 2 * 1024 * 1024,
            max_response_body_bytes: 10 * 1024 * 1024,
            max_connections: 1024,
            max_batch_len: 100,
            batch_concurrency: 16,
            max_in_flight: 1024,
            max_subscriptions_per_connection: 256,
            max_calls_per_connection: 64,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            min_body_rate: crate::body::MinRate { bytes_per_second: 240, grace: Duration::from_secs(5) },
            keep_alive_timeout: Duration::from_secs(60),
            ws_ping_interval: Duration::from_secs(20),
            ws_idle_timeout: Duration::from_secs(60),
            reauthenticate_every: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Largest request body (default 2 MiB); larger ones get `REQUEST_TOO_BIG` (-32007).
    pub fn max_request_body_bytes(mut self, bytes: u32) -> Self {
        self.max_request_body_bytes = bytes;
        self
    }

    /// Largest response body (default 10 MiB).
    pub fn max_response_body_bytes(mut self, bytes: u32) -> Self {
        self.max_response_body_bytes = bytes;
        self
    }

    /// Open connections (HTTP keep-alive and WebSocket) at once (default 1024). A newcomer
    /// beyond it closes the oldest idle HTTP connection to make room, or waits (unread, in the
    /// accept queue) up to `header_read_timeout` for one to close, then is dropped.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// Calls in one batch (default 100); larger batches get `BATCH_TOO_BIG` (-32010).
    pub fn max_batch_len(mut self, calls: u32) -> Self {
        self.max_batch_len = calls.max(1);
        self
    }

    /// Entries of one batch run at the same time (default 16).
    pub fn batch_concurrency(mut self, calls: usize) -> Self {
        self.batch_concurrency = calls.max(1);
        self
    }

    /// Calls running at once across the server (default 1024); more get `OVERLOADED` at once,
    /// never a queue.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls.max(1);
        self
    }

    /// Open subscriptions per WebSocket connection (default 256); more are refused with
    /// `OVERLOADED` (`data.limit`).
    pub fn max_subscriptions_per_connection(mut self, subscriptions: u32) -> Self {
        self.max_subscriptions_per_connection = subscriptions.max(1);
        self
    }

    /// Messages of one WebSocket being answered at once (default 64). Beyond it the server
    /// stops reading that socket until one finishes, so a flooding client gets backpressure.
    pub fn max_calls_per_connection(mut self, calls: usize) -> Self {
        self.max_calls_per_connection = calls.max(1);
        self
    }

    /// How long a request's head (request line and headers) may take to arrive, from its
    /// first byte (default 10 s; nginx's `client_header_timeout` is 60 s). A connection still
    /// sending a head after it is closed.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a request's body may take to arrive (default 30 s). Slower bodies are answered
    /// `408` with a `TIMEOUT` error and their connection closed.
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The slowest a body may arrive once `grace` has passed (default 240 bytes/s after 5 s,
    /// as Kestrel's `MinRequestBodyDataRate`): a trickled body is answered `408` and its
    /// connection closed long before the body timeout, so trickling clients cannot keep every
    /// connection busy. `0` turns the rule off.
    pub fn min_body_rate(mut self, bytes_per_second: u32, grace: Duration) -> Self {
        self.min_body_rate = crate::body::MinRate { bytes_per_second, grace };
        self
    }

    /// How long an HTTP keep-alive connection may wait for its next request (default 60 s;
    /// nginx's `keepalive_timeout` is 75 s).
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How often the server pings each WebSocket (default 20 s).
    pub fn ws_ping_interval(mut self, interval: Duration) -> Self {
        self.ws_ping_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// A WebSocket that sends nothing (not even a pong) for this long is closed with 1001
    /// (default 60 s: three pings unanswered).
    pub fn ws_idle_timeout(mut self, timeout: Duration) -> Self {
        self.ws_idle_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How often an open WebSocket's credentials are checked again with the authenticator
    /// (default 5 s): the bound on how long a revoked session keeps working on a socket
    /// opened before (an identity's own expiry is checked on every call).
    pub fn reauthenticate_every(mut self, interval: Duration) -> Self {
        self.reauthenticate_every = interval.max(Duration::from_millis(10));
        self
    }
}

/// How one procedure is served. Unset fields fall back to the server's defaults.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_in_flight: Option<usize>,
    pub(crate) rate_limit: Option<RateLimit>,
}

impl Policy {
    /// A policy that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The deadline of each call (the server default is 30 s). A client may ask for less with
    /// the `x-accord-timeout-ms` header, never for more.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Calls of this procedure running at once; more get `OVERLOADED`.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = Some(calls.max(1));
        self
    }

    /// Calls per caller per window; the limit's [`CallerKey`](crate::rate_limit::CallerKey)
    /// says whether a caller is its address, its identity, or both.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }
}
