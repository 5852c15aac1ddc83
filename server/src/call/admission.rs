//! Layer 4: load shedding. A call takes a server-wide in-flight slot and, when its procedure has
//! a `max_in_flight`, one of the procedure's, or is refused `OVERLOADED` at once (with a retry
//! hint) rather than queued: a queue in front of a saturated server only adds latency. The
//! procedure's in-flight gauge counts the admitted calls.

use std::sync::Arc;

use accord::{FrameworkCode, RetryHintData, RpcError};
use tokio::sync::Semaphore;

use super::{Call, CallService, Reply};
use crate::metrics::ProcedureMetrics;

/// See the module docs.
pub struct Admission<S> {
    in_flight: Arc<Semaphore>,
    inner: S,
}

impl<S> Admission<S> {
    pub(crate) fn new(in_flight: Arc<Semaphore>, inner: S) -> Self {
        Self { in_flight, inner }
    }
}

impl<S: CallService> CallService for Admission<S> {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        let procedure = call.procedure;
        let overloaded = || {
            procedure.metrics.overloaded.increment(1);
            let hint = RetryHintData { retry_after_ms: Some(100), limit: None };
            RpcError::from_data(FrameworkCode::Overloaded, "the server is at capacity; retry shortly", hint)
        };
        let _global = self.in_flight.try_acquire().map_err(|_| overloaded())?;
        let _local = match &procedure.in_flight {
            Some(slots) => Some(slots.try_acquire().map_err(|_| overloaded())?),
            None => None,
        };
        procedure.metrics.in_flight.increment(1.0);
        let _in_flight = InFlight(&procedure.metrics);
        self.inner.call(call).await
    }
}

/// Decrements the in-flight gauge however the call ends (cancellation included).
struct InFlight<'a>(&'a ProcedureMetrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.decrement(1.0);
    }
}
