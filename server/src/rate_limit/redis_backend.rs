//! How the Redis backend is configured: where Redis is, the key prefix, the timeout, and what a
//! check does when Redis cannot answer.

use std::fmt;
use std::time::Duration;

/// What a check does when Redis cannot answer (unreachable, timed out, script error).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnBackendError {
    /// Allow the call: an outage of Redis does not become an outage of the service.
    #[default]
    FailOpen,
    /// Deny the call with a `retry_after` of 1 s: no call goes uncounted.
    FailClosed,
}

/// Redis settings. `RedisBackend::new(url).key_prefix("accord:rl:").on_error(OnBackendError::FailOpen)`.
#[derive(Clone)]
pub struct RedisBackend {
    pub(super) url: String,
    pub(super) key_prefix: String,
    pub(super) on_error: OnBackendError,
    pub(super) timeout: Duration,
}

impl RedisBackend {
    /// The default key prefix.
    pub const DEFAULT_KEY_PREFIX: &str = "accord:rl:";
    /// The default [`timeout`](Self::timeout).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

    /// A Redis at `url` (`redis://[user:password@]host[:port][/db]`), with prefix `accord:rl:`,
    /// [`OnBackendError::FailOpen`] and a 500 ms timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            on_error: OnBackendError::default(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// Prefix of every key (keys are `{prefix}{rule}:{caller}`). Instances share counters
    /// exactly when they share the Redis and the prefix.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// What to do when Redis fails.
    pub fn on_error(mut self, on_error: OnBackendError) -> Self {
        self.on_error = on_error;
        self
    }

    /// The longest a check waits for Redis (connecting included) before it counts as a
    /// backend error. Zero is treated as 1 ms.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }
}

impl fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBackend")
            .field("url", &redact_url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("on_error", &self.on_error)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The URL without its user info (which may hold a password).
pub(super) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}
