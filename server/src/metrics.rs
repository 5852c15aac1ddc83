//! Prometheus metrics, rendered at `/metrics` on the server's own port.
//!
//! Each server owns its recorder (no process-global install), so several servers or tests in
//! one process do not mix their numbers. Handles for the hot path (calls, latency, in-flight)
//! are registered once per procedure at start-up; the per-call cost is a few atomic adds.
//!
//! | metric | labels | |
//! |---|---|---|
//! | `accord_calls_total` | `method`, `kind`, `outcome` | every finished call; `outcome` is `OK` or the error's `data.code` |
//! | `accord_call_duration_seconds` | `method` | histogram (p50/p95/p99 via `histogram_quantile`) |
//! | `accord_calls_in_flight` | `method` | calls running now |
//! | `accord_rejected_total` | `method`, `reason` | refused by a limit: `RATE_LIMITED`, `OVERLOADED` |
//! | `accord_connections_open` | | open TCP connections |
//! | `accord_connections_rejected_total` | | connections closed at once because of `max_connections` |

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

const DURATION: &str = "accord_call_duration_seconds";
/// Latency buckets in seconds: fine-grained where RPC latencies live.
const BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A server's metrics registry. Apps may register their own series on it (e.g. pool gauges).
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        // Cannot fail (the bucket list is a non-empty constant); without buckets the exporter
        // would fall back to summaries, still a valid exposition.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        Self { recorder: Arc::new(recorder), handle }
    }

    /// Folds recorded samples into the histograms. Without it the exporter keeps every latency
    /// sample until the next scrape (unbounded memory when nobody scrapes); the server calls it
    /// every few seconds.
    pub(crate) fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// A gauge with static labels, e.g. for connection-pool statistics.
    pub fn gauge(&self, name: &'static str, labels: &[(&'static str, String)]) -> Gauge {
        self.recorder.register_gauge(&key(name, labels), &METADATA)
    }

    /// A counter with static labels.
    pub fn counter(&self, name: &'static str, labels: &[(&'static str, String)]) -> Counter {
        self.recorder.register_counter(&key(name, labels), &METADATA)
    }

    /// A histogram with static labels.
    pub fn histogram(&self, name: &'static str, labels: &[(&'static str, String)]) -> Histogram {
        self.recorder.register_histogram(&key(name, labels), &METADATA)
    }

    pub(crate) fn procedure(&self, method: &'static str, kind: &'static str) -> ProcedureMetrics {
        let m = || ("method", method.to_owned());
        ProcedureMetrics {
            metrics: self.clone(),
            method,
            kind,
            ok: self.counter("accord_calls_total", &[m(), ("kind", kind.into()), ("outcome", "OK".into())]),
            duration: self.histogram(DURATION, &[m()]),
            in_flight: self.gauge("accord_calls_in_flight", &[m()]),
            rate_limited: self.counter("accord_rejected_total", &[m(), ("reason", "RATE_LIMITED".into())]),
            overloaded: self.counter("accord_rejected_total", &[m(), ("reason", "OVERLOADED".into())]),
        }
    }
}

static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, None);

fn key(name: &'static str, labels: &[(&'static str, String)]) -> Key {
    Key::from_parts(name, labels.iter().map(|(k, v)| Label::new(*k, v.clone())).collect::<Vec<_>>())
}

/// Pre-registered series of one procedure.
pub(crate) struct ProcedureMetrics {
    metrics: Metrics,
    method: &'static str,
    kind: &'static str,
    pub ok: Counter,
    pub duration: Histogram,
    pub in_flight: Gauge,
    pub rate_limited: Counter,
    pub overloaded: Counter,
}

impl ProcedureMetrics {
    /// Counts a finished call. Errors register their series on first use (they are rare and
    /// their codes are many).
    pub(crate) fn finished(&self, outcome: &str, seconds: f64) {
        self.duration.record(seconds);
        if outcome == "OK" {
            self.ok.increment(1);
        } else {
            let labels = [("method", self.method.to_owned()), ("kind", self.kind.into()), ("outcome", outcome.into())];
            self.metrics.counter("accord_calls_total", &labels).increment(1);
        }
    }
}
