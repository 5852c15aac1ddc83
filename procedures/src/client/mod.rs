//! Rust client transports: HTTP ([`HttpTransport`]) and WebSocket ([`WsTransport`]).
//!
//! Use them with the generated `<Trait>Client`:
//!
//! ```no_run
//! # async fn run() -> Result<(), accord::client::ConnectError> {
//! use accord::client::{HttpTransport, WsTransport};
//! let http = HttpTransport::new("http://127.0.0.1:3000/rpc")?;   // queries and mutations
//! let ws = WsTransport::connect("ws://127.0.0.1:3000/rpc").await?; // everything, subscriptions too
//! # let _ = (http, ws);
//! # Ok(()) }
//! ```
//!
//! Both transports behave alike (`docs/wire.md` and the README's "Rust client" section):
//!
//! - **Deadline.** A call's deadline is the [`Cx`] deadline (`Cx::with_timeout`), else
//!   [`TransportOptions::request_timeout`] (60 s), whichever is sooner. The client stops
//!   waiting then with `TIMEOUT`, and tells the server the time left so that it cancels work
//!   nobody waits for: the `x-accord-timeout-ms` header over HTTP, the request's
//!   `"meta": {"timeoutMs": ...}` over WebSocket.
//! - **Retries** ([`RetryPolicy`], per transport or per call as a `Cx` extension): queries and
//!   `#[mutation(idempotent)]`s that fail with `TRANSPORT`, `UNAVAILABLE`, `OVERLOADED` or
//!   `RATE_LIMITED` are sent again, with exponential backoff and jitter (or after the server's
//!   `retryAfterMs`), within the deadline. Other mutations are never sent twice.
//! - **Headers.** [`TransportOptions::header`]s go with every HTTP request and with the
//!   WebSocket's upgrade request. Per-call headers (`Cx::with_header`) are sent over HTTP;
//!   a WebSocket cannot carry headers per call, so [`WsTransport`] ignores them (authenticate
//!   the connection instead).

mod http;
mod retry;
mod wire;
mod ws;

pub use self::http::HttpTransport;
pub use retry::RetryPolicy;
pub use ws::{Authorize, ConnectionState, WsTransport};

use std::time::{Duration, Instant};

use crate::{Cx, FrameworkCode, RpcError};

/// Why a transport could not be created.
#[derive(Debug, thiserror::Error)]
#[error("could not create the client for {url}: {message}")]
pub struct ConnectError {
    url: String,
    message: String,
}

impl ConnectError {
    fn new(url: &str, message: impl std::fmt::Display) -> Self {
        Self { url: url.to_owned(), message: message.to_string() }
    }
}

/// Options shared by both transports (the keep-alive, reconnection and in-band credentials
/// are the WebSocket's).
#[derive(Clone)]
pub struct TransportOptions {
    headers: ::http::HeaderMap,
    request_timeout: Duration,
    retry: RetryPolicy,
    max_response_bytes: usize,
    keep_alive: Duration,
    reconnect_delay: Duration,
    max_reconnect_delay: Duration,
    authorize: Option<Authorize>,
}

impl std::fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportOptions")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("keep_alive", &self.keep_alive)
            .field("authorize", &self.authorize.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for TransportOptions {
    fn default() -> Self {
        Self {
            headers: ::http::HeaderMap::new(),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_response_bytes: 10 * 1024 * 1024,
            keep_alive: Duration::from_secs(15),
            reconnect_delay: Duration::from_millis(100),
            max_reconnect_delay: Duration::from_secs(5),
            authorize: None,
        }
    }
}

impl TransportOptions {
    /// Adds a header sent with every request (HTTP) or with the WebSocket handshake.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, ConnectError> {
        let name = ::http::HeaderName::try_from(name).map_err(|e| ConnectError::new("", e))?;
        let value = ::http::HeaderValue::try_from(value).map_err(|e| ConnectError::new("", e))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The longest a call may take when its `Cx` sets no sooner deadline (default 60 s). Also
    /// bounds connecting.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How failed calls are retried (default [`RetryPolicy::default`]: 3 attempts).
    /// [`RetryPolicy::never`] turns retries off. A call can override it with
    /// `Cx::new().with_extension(policy)`.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The largest answer accepted, in bytes (default 10 MiB); a larger one fails the call
    /// with `TRANSPORT`.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// WebSocket: how often a silent connection is pinged (`rpc.ping`; default 15 s). A
    /// connection that hears nothing at all for two intervals is taken for dead and replaced.
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.keep_alive = interval.max(Duration::from_millis(10));
        self
    }

    /// WebSocket: the reconnection backoff: the first delay is drawn below `first` (default
    /// 100 ms), each later bound doubles up to `max` (default 5 s); full jitter.
    pub fn reconnect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.reconnect_delay = first;
        self.max_reconnect_delay = max.max(first);
        self
    }

    /// WebSocket: credentials sent in band (`rpc.authenticate`) as the first message of every
    /// connection, instead of in the upgrade request's headers or URL. `authorization` is what
    /// an `Authorization` header would carry (`"Bearer ..."`).
    pub fn authorization(self, authorization: impl Into<String>) -> Self {
        let value: std::sync::Arc<str> = authorization.into().into();
        self.authorize_with(move || {
            let value = value.clone();
            async move { Some(value.to_string()) }
        })
    }

    /// WebSocket: like [`authorization`](Self::authorization), asking `hook` for the current
    /// credentials at each (re)connection, so a refreshed token is used; `None` sends none.
    pub fn authorize_with<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<String>> + Send + 'static,
    {
        self.authorize = Some(std::sync::Arc::new(move || Box::pin(hook()) as ws::AuthorizeFuture));
        self
    }

    /// When a call made now with `cx` must be answered by.
    fn deadline(&self, cx: &Cx) -> Instant {
        let default = Instant::now() + self.request_timeout;
        cx.deadline().map_or(default, |deadline| deadline.min(default))
    }

    /// The retry policy for a call made with `cx`.
    fn retry_for<'a>(&'a self, cx: &'a Cx) -> &'a RetryPolicy {
        cx.get::<RetryPolicy>().unwrap_or(&self.retry)
    }
}

/// The time left until `deadline`, as the whole milliseconds the server is told (rounded up,
/// so that a server never gets a deadline before the client's).
fn remaining_ms(deadline: Instant) -> u64 {
    let left = deadline.saturating_duration_since(Instant::now());
    u64::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
}

/// Waits for `call` until `deadline`; past it, the call is dropped and `TIMEOUT` returned.
async fn within<T>(deadline: Instant, call: impl Future<Output = Result<T, RpcError>>) -> Result<T, RpcError> {
    // Already past: do not send a call nobody will wait for.
    if deadline <= Instant::now() {
        return Err(deadline_passed());
    }
    tokio::time::timeout_at(deadline.into(), call).await.map_err(|_| deadline_passed())?
}

fn deadline_passed() -> RpcError {
    RpcError::framework(FrameworkCode::Timeout, "the call's deadline passed")
}
