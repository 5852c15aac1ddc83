//! Per-caller rate limiting: "at most `calls` calls per `per`", counted per rule and per caller.
//!
//! A [`RateLimiter`] is built once per server from a [`RateLimitBackend`] and a set of rules. A
//! rule is an id (`"*"` for every call, or a wire method such as `"todos.create"`) with its
//! [`RateLimit`]. For each call the pipeline asks [`RateLimiter::check`] with the rule and the
//! *caller key*, built from what the server verified, never from a header a client sets
//! freely: the limit's [`CallerKey`] says whether that is the client address (IPv6 by /64;
//! forwarding headers only from trusted proxies), the authenticated identity (else the
//! address), or both. Each (rule, key) pair has its own budget.
//!
//! **Bounded state.** Keys longer than [`MAX_KEY_BYTES`] are replaced by a 128-bit hash of
//! themselves, so a key costs at most that much in memory or in Redis, whatever the identity's
//! subject. The in-memory backend keeps at most [`MAX_KEYS_PER_RULE`] callers per rule: idle
//! ones are swept first; a caller beyond that while every tracked one is active is refused
//! (`RATE_LIMITED`, retry after 1 s) rather than let memory grow. Redis keys expire after a
//! window of silence.
//!
//! # Backends
//!
//! - [`RateLimitBackend::Memory`] (the default) counts in this process with the `governor` crate:
//!   a keyed GCRA (generic cell rate algorithm, a token bucket without a timer). A limit of
//!   10 per minute allows a burst of 10 calls, then one call every 6 s as the budget refills.
//!   Counters are lost on restart and not shared between instances. Checks themselves sweep out
//!   idle callers (governor's `retain_recent`, at most every 10 s or when the number of callers
//!   has doubled; no background task), so memory follows the callers active in the last `per`.
//! - [`RateLimitBackend::Redis`] counts in Redis, so every instance of a service pointing at the
//!   same Redis and key prefix shares one budget per caller. It uses a **sliding window log**: a
//!   sorted set of call times per `{prefix}{rule}:{caller}` key, trimmed and checked atomically
//!   by a Lua script that reads the Redis server's clock (`TIME`), so instances with skewed
//!   clocks agree. At most `calls` calls fall in any window of length `per`; there is no burst
//!   refill as in GCRA. Each key costs up to `calls` entries and expires after `per` of silence.
//!
//! Why these: governor is the maintained in-process GCRA implementation; no maintained crate
//! does a Redis sliding window, and a short script through `redis::Script` (EVALSHA, reloaded
//! after a Redis restart) is the atomic way to do one.
//!
//! # When Redis fails
//!
//! An invalid Redis URL fails [`RateLimiter::new`]. An unreachable Redis does not: the
//! connection is made lazily (and remade after a drop) by redis' `ConnectionManager`, and
//! until it works every check is a *backend error*, decided by [`OnBackendError`]:
//! [`FailOpen`](OnBackendError::FailOpen) (the default) allows the call,
//! [`FailClosed`](OnBackendError::FailClosed) refuses it as [`Decision::Unavailable`]
//! (`UNAVAILABLE`, `retryAfterMs` 1000: a dependency is down, not the caller's fault). A check
//! waits at most [`RedisBackend::timeout`] (default 500 ms) for Redis, and after a connection
//! failure or a timeout the next checks skip Redis for 1 s (then one probes it), so an outage
//! adds no latency. Backend errors are logged with `tracing::warn!`, at most one line per
//! second; that line counts the ones not logged.

mod bounded_store;
mod memory;
mod redis;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use self::memory::MemoryLimiter;
use self::redis::RedisLimiter;

/// Keys longer than this are hashed.
pub const MAX_KEY_BYTES: usize = 128;
/// The most callers the in-memory backend tracks per rule.
pub const MAX_KEYS_PER_RULE: usize = 100_000;

/// What a limit counts calls against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// The client address, whoever is signed in: right for sign-in and sign-up, where each
    /// account must not add attempts.
    Address,
    /// The authenticated identity; anonymous callers by address. The default.
    #[default]
    Identity,
    /// Each (identity, address) pair; anonymous callers by address.
    IdentityAndAddress,
}

impl CallerKey {
    /// The key of a caller at `address_key` signed in as `identity` (if anyone).
    pub(crate) fn of<'a>(self, address_key: &'a str, identity: Option<&accord::Identity>) -> std::borrow::Cow<'a, str> {
        match (self, identity) {
            (CallerKey::Address, _) | (_, None) => std::borrow::Cow::Borrowed(address_key),
            (CallerKey::Identity, Some(identity)) => format!("id:{}", identity.subject()).into(),
            (CallerKey::IdentityAndAddress, Some(identity)) => {
                format!("id:{}|{address_key}", identity.subject()).into()
            }
        }
    }
}

/// "At most `calls` calls per `per`", counted per caller as its [`CallerKey`] says. Build
/// with [`RateLimit::new`], [`RateLimit::per_second`] or [`RateLimit::per_minute`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    calls: u32,
    per: Duration,
    key: CallerKey,
}

impl RateLimit {
    /// The longest window accepted: one year (365 days).
    pub const MAX_PER: Duration = Duration::from_secs(365 * 24 * 60 * 60);

    /// `calls` calls per `per`. Fails unless `calls >= 1` and `0 < per <= MAX_PER`.
    pub fn new(calls: u32, per: Duration) -> Result<Self, RateLimitError> {
        if calls == 0 {
            return Err(RateLimitError::InvalidLimit("at least one call must be allowed"));
        }
        if per.is_zero() {
            return Err(RateLimitError::InvalidLimit("the window must be longer than zero"));
        }
        if per > Self::MAX_PER {
            return Err(RateLimitError::InvalidLimit("the window must be at most one year"));
        }
        Ok(Self { calls, per, key: CallerKey::Identity })
    }

    /// `calls` calls per second. A limit allows at least one call per window, so 0 counts as
    /// 1; use [`RateLimit::new`] to have 0 refused instead.
    pub const fn per_second(calls: u32) -> Self {
        Self { calls: if calls == 0 { 1 } else { calls }, per: Duration::from_secs(1), key: CallerKey::Identity }
    }

    /// `calls` calls per minute (0 counts as 1, as for [`RateLimit::per_second`]).
    pub const fn per_minute(calls: u32) -> Self {
        Self { calls: if calls == 0 { 1 } else { calls }, per: Duration::from_secs(60), key: CallerKey::Identity }
    }

    /// How many calls a window allows (at least 1).
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// The window (greater than zero).
    pub fn per(&self) -> Duration {
        self.per
    }

    /// The same limit, counted against `key` (default [`CallerKey::Identity`]).
    pub const fn keyed_by(mut self, key: CallerKey) -> Self {
        self.key = key;
        self
    }

    /// The same limit, counted per client address whoever is signed in
    /// (`keyed_by(CallerKey::Address)`).
    pub const fn per_address(self) -> Self {
        self.keyed_by(CallerKey::Address)
    }

    /// What calls are counted against.
    pub fn key(&self) -> CallerKey {
        self.key
    }
}

/// Where counters live.
#[derive(Clone, Debug, Default)]
pub enum RateLimitBackend {
    /// In this process (governor). The default.
    #[default]
    Memory,
    /// In Redis, shared by every instance using the same URL and key prefix.
    Redis(RedisBackend),
}

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
    url: String,
    key_prefix: String,
    on_error: OnBackendError,
    timeout: Duration,
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

/// A fixed-length stand-in for a long key: its SHA-256, the same on every instance (Redis
/// keys are shared), truncated to 128 bits.
fn hashed_key(key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(34);
    out.push_str("h:");
    for byte in &digest[..16] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The URL without its user info (which may hold a password).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; the call was counted.
    Allow,
    /// Over the limit; the call was not counted. Retrying after `retry_after` (at least 1 ms)
    /// may succeed.
    Deny {
        /// How long until a call would be allowed.
        retry_after: Duration,
    },
    /// The backend could not count the call and the policy is
    /// [`FailClosed`](OnBackendError::FailClosed): refused as `UNAVAILABLE`, not as the
    /// caller's fault. Retrying after `retry_after` may succeed.
    Unavailable {
        /// How long until the backend is tried again.
        retry_after: Duration,
    },
}

impl Decision {
    /// `true` for [`Decision::Allow`].
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Why a limit or a limiter could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitError {
    /// A [`RateLimit`] out of range.
    #[error("invalid rate limit: {0}")]
    InvalidLimit(&'static str),
    /// The same rule id was given twice with different limits.
    #[error("the rate limit rule `{0}` is given twice with different limits")]
    ConflictingRule(String),
    /// The Redis URL does not parse (or names an unsupported scheme).
    #[error("invalid Redis URL: {0}")]
    RedisUrl(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The Redis client could not be set up (before any network traffic).
    #[error("could not set up the Redis connection: {0}")]
    Redis(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Checks calls against the rules. Built once per server; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

enum Inner {
    Memory(MemoryLimiter),
    Redis(RedisLimiter),
}

impl RateLimiter {
    /// A limiter over `rules` (rule id, limit). Giving a rule twice is fine with the same limit
    /// and an error with different ones.
    ///
    /// With Redis, fails only for an invalid URL: an unreachable Redis is logged and then
    /// handled per [`OnBackendError`] on each check until it is reachable.
    pub async fn new(
        backend: RateLimitBackend,
        rules: impl IntoIterator<Item = (String, RateLimit)>,
    ) -> Result<Self, RateLimitError> {
        let mut unique: HashMap<Box<str>, RateLimit> = HashMap::new();
        for (id, limit) in rules {
            match unique.entry(id.into_boxed_str()) {
                Entry::Vacant(vacant) => {
                    vacant.insert(limit);
                }
                Entry::Occupied(taken) if *taken.get() == limit => {}
                Entry::Occupied(taken) => return Err(RateLimitError::ConflictingRule(taken.key().to_string())),
            }
        }
        let inner = match backend {
            RateLimitBackend::Memory => Inner::Memory(MemoryLimiter::new(unique)),
            RateLimitBackend::Redis(config) => Inner::Redis(RedisLimiter::new(config, unique).await?),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Counts one call by `caller` against rule `rule` and says whether it may proceed. A rule
    /// id that was not given to [`RateLimiter::new`] allows. Holds no lock across an await.
    pub async fn check(&self, rule: &str, caller: &str) -> Decision {
        let hashed;
        let caller = if caller.len() > MAX_KEY_BYTES {
            hashed = hashed_key(caller);
            hashed.as_str()
        } else {
            caller
        };
        match &*self.inner {
            Inner::Memory(memory) => memory.check(rule, caller),
            Inner::Redis(redis) => redis.check(rule, caller).await,
        }
    }

    /// The limit of rule `rule`, if it is one of the rules.
    pub fn limit(&self, rule: &str) -> Option<RateLimit> {
        match &*self.inner {
            Inner::Memory(memory) => memory.limit(rule),
            Inner::Redis(redis) => redis.limit(rule),
        }
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Memory(memory) => f.debug_tuple("RateLimiter::Memory").field(memory).finish(),
            Inner::Redis(redis) => f.debug_tuple("RateLimiter::Redis").field(redis).finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_validated() {
        assert!(matches!(RateLimit::new(0, Duration::from_secs(1)), Err(RateLimitError::InvalidLimit(_))));
        assert!(matches!(RateLimit::new(1, Duration::ZERO), Err(RateLimitError::InvalidLimit(_))));
        assert!(RateLimit::new(1, RateLimit::MAX_PER + Duration::from_secs(1)).is_err());
        let limit = RateLimit::new(10, Duration::from_secs(60)).unwrap();
        assert_eq!(limit, RateLimit::per_minute(10));
        assert_eq!((limit.calls(), limit.per()), (10, Duration::from_secs(60)));
        assert_eq!(RateLimit::per_second(0).per(), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn conflicting_rules_are_rejected_and_identical_ones_merged() {
        let ten = RateLimit::per_second(10);
        let five = RateLimit::per_second(5);
        let rules = [("*".to_owned(), ten), ("*".to_owned(), ten)];
        assert!(RateLimiter::new(RateLimitBackend::Memory, rules).await.is_ok());
        let rules = [("a".to_owned(), ten), ("a".to_owned(), five)];
        let error = RateLimiter::new(RateLimitBackend::Memory, rules).await.unwrap_err();
        assert!(matches!(error, RateLimitError::ConflictingRule(id) if id == "a"));
    }

    #[tokio::test]
    async fn the_limiter_and_its_checks_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
        fn assert_send<T: Send>(_: &T) {}
        let limiter = RateLimiter::new(RateLimitBackend::Memory, []).await.unwrap();
        assert_send_sync(&limiter);
        assert_send(&limiter.check("*", "alice"));
        assert_eq!(limiter.check("*", "alice").await, Decision::Allow);
    }

    #[test]
    fn debug_hides_redis_passwords() {
        let backend = RedisBackend::new("redis://user:secret@host:6379/0");
        let debug = format!("{backend:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("redis://***@host:6379/0"), "{debug}");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
    }
}
