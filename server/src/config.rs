//! What a server can be told: limits for the whole server and a [`Policy`] per procedure.
//!
//! Every default is chosen to be safe in production and is listed in the README's table.

use std::time::Duration;

use crate::rate_limit::RateLimit;

/// Server-wide limits.
#[derive(Clone, Debug)]
pub struct Limits {
    pub(crate) max_request_body_bytes: u32,
    pub(crate) max_response_body_bytes: u32,
    pub(crate) max_connections: usize,
    pub(crate) max_batch_len: u32,
    pub(crate) batch_concurrency: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) max_subscriptions_per_connection: u32,
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

    /// Open connections (HTTP keep-alive and WebSocket) at once (default 1024); more are closed
    /// as soon as they are accepted.
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

    /// Open subscriptions per WebSocket connection (default 256).
    pub fn max_subscriptions_per_connection(mut self, subscriptions: u32) -> Self {
        self.max_subscriptions_per_connection = subscriptions.max(1);
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

    /// Calls per caller (identity, else API key, else client IP) per window.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }
}
