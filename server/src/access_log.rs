//! The access log: one `tracing` event per call (each batch entry and WebSocket call too), on
//! the `accord::access` target.
//!
//! Fields: `request_id`, `method`, `kind`, `outcome` (`OK` or the error's `data.code`),
//! `duration_us`, `identity` (the caller's subject, when known) and `batch_size` (for batch
//! entries). Never params, results, bodies or credentials. Errors are always logged; successes
//! are sampled (one in `1 / rate`, counted, not random, so the rate is exact and costs one
//! atomic add).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Access-log settings.
#[derive(Clone, Debug)]
pub struct AccessLog {
    /// Log one success in this many; 0 logs none.
    success_every: u64,
    counter: Arc<AtomicU64>,
}

impl Default for AccessLog {
    /// Errors always, successes one in ten.
    fn default() -> Self {
        Self::new().success_sample_rate(0.1)
    }
}

impl AccessLog {
    fn new() -> Self {
        Self { success_every: 1, counter: Arc::default() }
    }

    /// The share of successful calls to log, from 0.0 (none) to 1.0 (all). Errors are always
    /// logged.
    pub fn success_sample_rate(mut self, rate: f64) -> Self {
        self.success_every = if rate.is_nan() || rate <= 0.0 { 0 } else { (1.0 / rate.min(1.0)).round() as u64 };
        self
    }

    pub(crate) fn record(&self, call: &CallRecord<'_>) {
        if call.outcome == "OK"
            && (self.success_every == 0
                || !self.counter.fetch_add(1, Ordering::Relaxed).is_multiple_of(self.success_every))
        {
            return;
        }
        tracing::info!(
            target: "accord::access",
            request_id = call.request_id,
            method = call.method,
            kind = call.kind,
            outcome = call.outcome,
            duration_us = call.duration.as_micros() as u64,
            identity = call.identity,
            batch_size = call.batch_size,
        );
    }
}

/// What the log says about one call.
pub(crate) struct CallRecord<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub kind: &'static str,
    pub outcome: &'a str,
    pub duration: Duration,
    pub identity: Option<&'a str>,
    pub batch_size: Option<usize>,
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Counts access-log events.
    struct Count(Arc<AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
        fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            if event.metadata().target() == "accord::access" {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn logged(log: &AccessLog, outcome: &str, calls: usize) -> usize {
        let count = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(Count(count.clone()));
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..calls {
                log.record(&CallRecord {
                    request_id: "r",
                    method: "m",
                    kind: "query",
                    outcome,
                    duration: Duration::ZERO,
                    identity: None,
                    batch_size: None,
                });
            }
        });
        count.load(Ordering::Relaxed)
    }

    #[test]
    fn successes_are_sampled_and_errors_are_not() {
        assert_eq!(logged(&AccessLog::new().success_sample_rate(0.1), "OK", 100), 10);
        assert_eq!(logged(&AccessLog::new().success_sample_rate(0.0), "OK", 100), 0);
        assert_eq!(logged(&AccessLog::new().success_sample_rate(0.0), "INTERNAL", 7), 7);
        assert_eq!(logged(&AccessLog::new().success_sample_rate(1.0), "OK", 5), 5);
    }
}
