//! Layer 3: rate limits. The procedure's own rule first (so a call it refuses costs no
//! server-wide budget), then the server-wide one. A refusal is `RATE_LIMITED` with
//! `data.retryAfterMs`; a limiter that cannot decide (its Redis is down and it fails closed) is
//! `UNAVAILABLE` with a retry hint, so a client can tell "slow down" from "try again later".

use accord::{FrameworkCode, RateLimitedData, RetryHintData, RpcError};

use super::{Call, CallService, Reply};
use crate::pipeline::{GLOBAL_RULE, millis};
use crate::rate_limit::{CallerKey, Decision, RateLimiter};

/// See the module docs. Without a limiter (no rule configured) it only hands the call on.
pub struct RateLimits<S> {
    limiter: Option<RateLimiter>,
    /// How the server-wide rule keys callers, if there is one.
    global: Option<CallerKey>,
    inner: S,
}

impl<S> RateLimits<S> {
    pub(crate) fn new(limiter: Option<RateLimiter>, global: Option<CallerKey>, inner: S) -> Self {
        Self { limiter, global, inner }
    }
}

impl<S: CallService> CallService for RateLimits<S> {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        if let Some(limiter) = &self.limiter {
            self.check(limiter, &call).await?;
        }
        self.inner.call(call).await
    }
}

impl<S> RateLimits<S> {
    async fn check(&self, limiter: &RateLimiter, call: &Call<'_>) -> Result<(), RpcError> {
        let procedure = call.procedure;
        let rules = [(procedure.rate_limit, procedure.name), (self.global, GLOBAL_RULE)];
        for (key, rule) in rules.iter().filter_map(|(key, rule)| Some((key.as_ref()?, *rule))) {
            let caller_key = key.of(call.caller.address_key(), call.cx.identity());
            match limiter.check(rule, &caller_key).await {
                Decision::Allow => {}
                Decision::Deny { retry_after } => {
                    procedure.metrics.rate_limited.increment(1);
                    let data = RateLimitedData { retry_after_ms: millis(retry_after).max(1) };
                    return Err(RpcError::from_data(FrameworkCode::RateLimited, "too many calls; retry later", data));
                }
                Decision::Unavailable { retry_after } => {
                    let hint = RetryHintData { retry_after_ms: Some(millis(retry_after)), limit: None };
                    let message = "rate limits cannot be checked right now; retry shortly";
                    return Err(RpcError::from_data(FrameworkCode::Unavailable, message, hint));
                }
            }
        }
        Ok(())
    }
}
