//! Retrying calls that failed in a way worth another try, the same policy `@accord/client`
//! applies: only calls that are safe to repeat ([`Method::retry_safe`]), only for failures that
//! say "try again" (`TRANSPORT`, `UNAVAILABLE`, `OVERLOADED`, `RATE_LIMITED`), with exponential
//! backoff and full jitter (or the server's `retryAfterMs`), never past the call's deadline.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::{FrameworkCode, Method, RpcError, TransportData};

/// How a transport retries failed calls.
///
/// ```
/// use std::time::Duration;
/// use accord::client::{RetryPolicy, TransportOptions};
/// use accord::Cx;
///
/// // Per transport:
/// let options = TransportOptions::default().retry(RetryPolicy::default().attempts(5));
/// // Per call:
/// let cx = Cx::new().with_extension(RetryPolicy::never());
/// # let _ = (options, cx);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts in all, backoff from 100 ms doubling up to 2 s (each delay drawn at random
    /// below that bound).
    fn default() -> Self {
        Self { attempts: 3, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(2) }
    }
}

impl RetryPolicy {
    /// No retries: every call is sent once.
    pub fn never() -> Self {
        Self { attempts: 1, ..Self::default() }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The bound of the first delay; it doubles with each retry up to [`Self::max_delay`].
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest backoff delay (a server's `retryAfterMs` may ask for longer).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The wait before retry number `retry` (1 for the first).
    fn delay(&self, retry: u32, error: &RpcError) -> Duration {
        if let Some(after) = error.retry_after() {
            return after;
        }
        let bound = self.base_delay.saturating_mul(2u32.saturating_pow(retry - 1)).min(self.max_delay);
        // Full jitter: clients that failed together do not come back together.
        bound.mul_f64(random_unit())
    }

    /// Runs `attempt` until it succeeds, fails for good, or the next try would end past
    /// `deadline`. `attempt` gets the attempt number (1 for the first).
    pub(super) async fn run<T, F, Fut>(&self, method: Method, deadline: Instant, mut attempt: F) -> Result<T, RpcError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, RpcError>>,
    {
        let mut number = 1;
        loop {
            let error = match attempt(number).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if number >= self.attempts || !method.retry_safe() || !retryable(&error) {
                return Err(error);
            }
            let wait = self.delay(number, &error);
            if Instant::now() + wait >= deadline {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            number += 1;
        }
    }
}

/// Whether `error` says the call may succeed if sent again.
pub(crate) fn retryable(error: &RpcError) -> bool {
    match error.framework_code() {
        Some(FrameworkCode::Unavailable | FrameworkCode::Overloaded | FrameworkCode::RateLimited) => true,
        // A client error status (a wrong URL, a refused request) will not change; a gateway's
        // 5xx, 408 or 429, or no answer at all, may.
        Some(FrameworkCode::Transport) => match error.data_as::<TransportData>().and_then(|d| d.status) {
            Some(status) => status >= 500 || status == 408 || status == 429,
            None => true,
        },
        _ => false,
    }
}

/// A full-jitter backoff delay: drawn below `first` doubled `attempt` times, capped at `max`.
pub(super) fn backoff(first: Duration, max: Duration, attempt: u32) -> Duration {
    let bound = first.saturating_mul(2u32.saturating_pow(attempt.min(30))).min(max);
    bound.mul_f64(random_unit())
}

/// A number in [0, 1) that differs between calls: enough randomness for jitter without a
/// random-number crate (each `RandomState` is freshly keyed).
fn random_unit() -> f64 {
    let bits = std::collections::hash_map::RandomState::new().build_hasher().finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RateLimitedData, RetryHintData};

    fn transport(status: Option<u16>) -> RpcError {
        RpcError::from_data(FrameworkCode::Transport, "x", TransportData { status, reason: None })
    }

    #[test]
    fn only_try_again_failures_are_retryable() {
        assert!(retryable(&RpcError::framework(FrameworkCode::Unavailable, "down")));
        assert!(retryable(&RpcError::framework(FrameworkCode::Overloaded, "busy")));
        assert!(retryable(&transport(None)));
        assert!(retryable(&transport(Some(503))));
        assert!(!retryable(&transport(Some(404))));
        assert!(!retryable(&RpcError::framework(FrameworkCode::Timeout, "late")));
        assert!(!retryable(&RpcError::framework(FrameworkCode::InvalidParams, "bad")));
        assert!(!retryable(&RpcError { code: 1000, message: "domain".into(), data: None }));
    }

    #[test]
    fn delays_grow_stay_bounded_and_follow_the_server() {
        let policy =
            RetryPolicy::default().base_delay(Duration::from_millis(100)).max_delay(Duration::from_millis(300));
        let busy = RpcError::framework(FrameworkCode::Overloaded, "busy");
        for _ in 0..100 {
            assert!(policy.delay(1, &busy) < Duration::from_millis(100));
            assert!(policy.delay(2, &busy) < Duration::from_millis(200));
            assert!(policy.delay(9, &busy) < Duration::from_millis(300));
        }
        let limited = RpcError::from_data(FrameworkCode::RateLimited, "slow", RateLimitedData { retry_after_ms: 1500 });
        assert_eq!(policy.delay(1, &limited), Duration::from_millis(1500));
        let hinted = RpcError::from_data(
            FrameworkCode::Unavailable,
            "x",
            RetryHintData { retry_after_ms: Some(40), limit: None },
        );
        assert_eq!(policy.delay(3, &hinted), Duration::from_millis(40));
    }

    #[tokio::test]
    async fn retries_safe_calls_within_attempts_and_deadline() {
        let policy = RetryPolicy::default().base_delay(Duration::from_millis(1));
        let deadline = Instant::now() + Duration::from_secs(5);
        let down = || RpcError::framework(FrameworkCode::Unavailable, "down");

        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(Method::query("t.q"), deadline, |_| {
                calls += 1;
                std::future::ready(Err(down()))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 3, "three attempts in all");

        let mut calls = 0;
        let _ = policy
            .run(Method::mutation("t.m"), deadline, |_| {
                calls += 1;
                std::future::ready(Err::<(), _>(down()))
            })
            .await;
        assert_eq!(calls, 1, "a mutation that is not idempotent is sent once");

        let idempotent = Method { idempotent: true, ..Method::mutation("t.m") };
        let mut calls = 0;
        let result = policy
            .run(idempotent, deadline, |n| {
                calls += 1;
                std::future::ready(if n < 2 { Err(down()) } else { Ok(n) })
            })
            .await;
        assert_eq!(result, Ok(2));
        assert_eq!(calls, 2);

        // A wait that would end past the deadline is not taken.
        let limited =
            RpcError::from_data(FrameworkCode::RateLimited, "slow", RateLimitedData { retry_after_ms: 10_000 });
        let mut calls = 0;
        let _ = policy
            .run(Method::query("t.q"), deadline, |_| {
                calls += 1;
                std::future::ready(Err::<(), _>(limited.clone()))
            })
            .await;
        assert_eq!(calls, 1);
    }
}
