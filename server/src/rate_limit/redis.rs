//! The Redis backend: an atomic sliding window log per `{prefix}{rule}:{caller}` key.
//!
//! Each key is a sorted set of the allowed calls of the last window, scored by the Redis
//! server's time in microseconds. One Lua script (run with EVALSHA, reloaded by `redis::Script`
//! when Redis has forgotten it) trims entries older than the window, and either adds the call
//! and sets the key to expire after the window, or answers how long until the oldest entry
//! leaves the window. A denied call is not recorded, so hammering does not extend the wait.
//! Needs Redis ≥ 5 (scripts that read `TIME` before writing).
//!
//! The connection is a redis `ConnectionManager`, created lazily: `new` fails only for an
//! invalid URL. It then tries to connect and load the script once (bounded by the timeout) and
//! only logs if that fails; every check after that is bounded by the same timeout and treats
//! any failure per [`OnBackendError`], logging at most one line per second.
//!
//! **Outages cost no latency.** After a connection failure or a timeout, checks skip Redis for
//! [`COOLDOWN`] and apply the policy at once (a circuit breaker); then one check probes Redis
//! (the others keep skipping until it answers) and a success resumes normal checks. A check
//! whose connection turns out dead waits once for the reconnection the manager then starts.
//! Errors that Redis itself answered (a script error, say) do not open the breaker.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{RedisError, Script};

use super::{Decision, OnBackendError, RateLimit, RateLimitError, RedisBackend, redact_url};

/// KEYS[1]: the key. ARGV: window (µs), calls allowed, unique member, key expiry (ms).
/// Returns 0 when the call is allowed (and recorded), else the wait in µs (≥ 1).
const SLIDING_WINDOW: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
";

/// What a check answers under [`OnBackendError::FailClosed`].
const FAIL_CLOSED_RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long checks skip Redis after a connection failure or a timeout.
pub(super) const COOLDOWN: Duration = Duration::from_secs(1);

pub(super) struct RedisLimiter {
    rules: HashMap<Box<str>, Rule>,
    conn: ConnectionManager,
    script: Script,
    on_error: OnBackendError,
    timeout: Duration,
    /// Makes sorted-set members unique across instances: random per limiter, then a counter.
    nonce: u64,
    counter: AtomicU64,
    log: LogThrottle,
    url: String,
    breaker: Breaker,
}

struct Rule {
    limit: RateLimit,
    /// `{prefix}{rule}:`
    key_prefix: String,
    window_us: u64,
    expire_ms: u64,
}

impl RedisLimiter {
    pub(super) async fn new(config: RedisBackend, rules: HashMap<Box<str>, RateLimit>) -> Result<Self, RateLimitError> {
        let client = ::redis::Client::open(config.url.as_str()).map_err(|e| RateLimitError::RedisUrl(Box::new(e)))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout));
        let conn = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| RateLimitError::Redis(Box::new(e)))?;
        let rules = rules
            .into_iter()
            .map(|(id, limit)| {
                let rule = Rule {
                    limit,
                    key_prefix: format!("{}{id}:", config.key_prefix),
                    window_us: u64::try_from(limit.per().as_micros()).unwrap_or(u64::MAX).max(1),
                    expire_ms: u64::try_from(limit.per().as_millis()).unwrap_or(u64::MAX).saturating_add(1),
                };
                (id, rule)
            })
            .collect();
        let nonce = std::hash::RandomState::new().hash_one((std::process::id(), SystemTime::now()));
        let limiter = Self {
            rules,
            conn,
            script: Script::new(SLIDING_WINDOW),
            on_error: config.on_error,
            timeout: config.timeout,
            nonce,
            counter: AtomicU64::new(0),
            log: LogThrottle::new(),
            url: redact_url(&config.url),
            breaker: Breaker::new(),
        };
        limiter.warm_up().await;
        Ok(limiter)
    }

    /// Connects and loads the script, so the first calls do not pay for it. Only logs on failure.
    async fn warm_up(&self) {
        let mut conn = self.conn.clone();
        let loaded = tokio::time::timeout(self.timeout, self.script.load_async(&mut conn)).await;
        let error = match loaded {
            Ok(Ok(_)) => return,
            Ok(Err(error)) => Failure::Redis(error),
            Err(_) => Failure::Timeout(self.timeout),
        };
        if error.is_connection_failure() {
            self.breaker.trip();
        }
        self.log.warn(&error, "at startup", self.on_error);
    }

    pub(super) fn limit(&self, rule: &str) -> Option<RateLimit> {
        self.rules.get(rule).map(|r| r.limit)
    }

    pub(super) async fn check(&self, rule: &str, caller: &str) -> Decision {
        let Some(rule) = self.rules.get(rule) else { return Decision::Allow };
        if self.breaker.skip() {
            return self.backend_error(Failure::Skipped);
        }
        let mut key = String::with_capacity(rule.key_prefix.len() + caller.len());
        key.push_str(&rule.key_prefix);
        key.push_str(caller);
        let member = format!("{:x}.{:x}", self.nonce, self.counter.fetch_add(1, Ordering::Relaxed));
        let mut invocation = self.script.key(key);
        invocation.arg(rule.window_us).arg(rule.limit.calls()).arg(member).arg(rule.expire_ms);
        let invoke = async {
            let mut conn = self.conn.clone();
            match invocation.invoke_async::<i64>(&mut conn).await {
                // The connection failed or dropped, and the manager has just started a new
                // one: wait for it once. (Rarely, the dropped call had already been counted.)
                Err(error) if error.is_io_error() => invocation.invoke_async::<i64>(&mut conn).await,
                result => result,
            }
        };
        let wait_us = match tokio::time::timeout(self.timeout, invoke).await {
            Ok(Ok(wait_us)) => wait_us,
            Ok(Err(error)) => return self.backend_error(Failure::Redis(error)),
            Err(_) => return self.backend_error(Failure::Timeout(self.timeout)),
        };
        self.breaker.reset();
        if wait_us <= 0 {
            Decision::Allow
        } else {
            Decision::Deny { retry_after: Duration::from_micros(wait_us.unsigned_abs()).max(Duration::from_millis(1)) }
        }
    }

    fn backend_error(&self, error: Failure) -> Decision {
        if error.is_connection_failure() {
            self.breaker.trip();
        }
        self.log.warn(&error, "during a check", self.on_error);
        match self.on_error {
            OnBackendError::FailOpen => Decision::Allow,
            OnBackendError::FailClosed => Decision::Unavailable { retry_after: FAIL_CLOSED_RETRY_AFTER },
        }
    }
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("url", &self.url)
            .field("rules", &self.rules.iter().map(|(id, r)| (id, r.limit)).collect::<HashMap<_, _>>())
            .field("on_error", &self.on_error)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a check could not ask Redis.
enum Failure {
    Redis(RedisError),
    Timeout(Duration),
    Skipped,
}

impl Failure {
    /// Whether Redis looks unreachable (rather than having answered with an error).
    fn is_connection_failure(&self) -> bool {
        match self {
            Failure::Redis(error) => error.is_io_error() || error.is_unrecoverable_error(),
            Failure::Timeout(_) => true,
            Failure::Skipped => false,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Redis(error) => error.fmt(f),
            Failure::Timeout(timeout) => write!(f, "no answer within {timeout:?}"),
            Failure::Skipped => write!(f, "not asked: it failed less than {COOLDOWN:?} ago"),
        }
    }
}

/// The circuit breaker: closed (0) or open until some time; see the module docs.
struct Breaker {
    start: Instant,
    /// 0 when closed, else milliseconds since `start` until which checks skip Redis.
    open_until_ms: AtomicU64,
}

impl Breaker {
    fn new() -> Self {
        Self { start: Instant::now(), open_until_ms: AtomicU64::new(0) }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn cooldown_end(&self) -> u64 {
        self.now_ms().saturating_add(COOLDOWN.as_millis() as u64).max(1)
    }

    /// Whether this check should skip Redis. When the cooldown is over, the first check to ask
    /// becomes the probe (the breaker stays open for the others).
    fn skip(&self) -> bool {
        let until = self.open_until_ms.load(Ordering::Relaxed);
        if until == 0 {
            return false;
        }
        if self.now_ms() < until {
            return true;
        }
        let probe = self.cooldown_end();
        self.open_until_ms.compare_exchange(until, probe, Ordering::Relaxed, Ordering::Relaxed).is_err()
    }

    fn trip(&self) {
        self.open_until_ms.store(self.cooldown_end(), Ordering::Relaxed);
    }

    fn reset(&self) {
        if self.open_until_ms.load(Ordering::Relaxed) != 0 {
            self.open_until_ms.store(0, Ordering::Relaxed);
        }
    }
}

/// At most one log line per second; the next line says how many were left out.
struct LogThrottle {
    start: Instant,
    /// Milliseconds since `start` before which nothing is logged.
    next_ms: AtomicU64,
    suppressed: AtomicU64,
}

impl LogThrottle {
    fn new() -> Self {
        Self { start: Instant::now(), next_ms: AtomicU64::new(0), suppressed: AtomicU64::new(0) }
    }

    fn warn(&self, error: &dyn fmt::Display, when: &str, on_error: OnBackendError) {
        let now_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next_ms = self.next_ms.load(Ordering::Relaxed);
        let mine = now_ms >= next_ms
            && self.next_ms.compare_exchange(next_ms, now_ms + 1000, Ordering::Relaxed, Ordering::Relaxed).is_ok();
        if !mine {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let suppressed = self.suppressed.swap(0, Ordering::Relaxed);
        let policy = match on_error {
            OnBackendError::FailOpen => "allowing calls (fail open)",
            OnBackendError::FailClosed => "denying calls (fail closed)",
        };
        tracing::warn!(%error, suppressed, "rate limit: Redis failed {when}; {policy}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_throttle_lets_one_line_a_second_through() {
        let log = LogThrottle::new();
        for _ in 0..100 {
            log.warn(&"down", "during a check", OnBackendError::FailOpen);
        }
        assert_eq!(log.suppressed.load(Ordering::Relaxed), 99);
        log.next_ms.store(0, Ordering::Relaxed); // as if a second had passed
        log.warn(&"down", "during a check", OnBackendError::FailOpen);
        assert_eq!(log.suppressed.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn the_breaker_skips_during_the_cooldown_then_lets_one_probe_through() {
        let breaker = Breaker::new();
        assert!(!breaker.skip(), "closed");
        breaker.trip();
        assert!(breaker.skip() && breaker.skip(), "open");
        breaker.open_until_ms.store(1, Ordering::Relaxed); // as if the cooldown were over
        std::thread::sleep(Duration::from_millis(2));
        assert!(!breaker.skip(), "the probe");
        assert!(breaker.skip(), "the others wait for the probe");
        breaker.reset();
        assert!(!breaker.skip() && !breaker.skip(), "closed again");
    }

    #[tokio::test]
    async fn an_invalid_url_fails_at_startup() {
        for url in ["not a url", "http://127.0.0.1:6379"] {
            let result = RedisLimiter::new(RedisBackend::new(url), HashMap::new()).await;
            assert!(matches!(result, Err(RateLimitError::RedisUrl(_))), "{url}: {result:?}");
        }
    }
}
