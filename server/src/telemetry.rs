//! OpenTelemetry (feature `otel`): traces exported over OTLP/HTTP, configured by the standard
//! environment variables, off unless they name a collector.
//!
//! | variable | effect |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | the collector's base URL (`/v1/traces` is appended); setting it (or the next one) turns exporting on |
//! | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | the traces URL, used as is |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` | `http/protobuf` (default) or `http/json` |
//! | `OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT` | read by the exporter |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource (service name default: the executable's name) |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | the sampler (default `parentbased_always_on`) |
//! | `OTEL_BSP_*` | the batch span processor |
//! | `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none` | off, whatever else is set |
//!
//! Every call gets one server span, `accord.call`, named after its method, with the RPC
//! semantic-convention attributes (`rpc.system = "jsonrpc"`, `rpc.method`,
//! `rpc.jsonrpc.version`, and on failure `rpc.jsonrpc.error_code`); it continues the caller's
//! W3C trace: the `traceparent`/`tracestate` headers of the HTTP request (or WebSocket
//! upgrade), overridden per call by `meta.traceparent`/`meta.tracestate` (so each call on a
//! WebSocket can belong to its own trace). The span records `trace_id`, so every log line
//! inside a call (the access log included) carries it.
//!
//! When no collector is configured nothing is exported and no trace context is parsed: the
//! cost is a few span fields per call (see BENCHMARKS.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::logging::{LogFormat, log_filter};

/// Whether spans are exported: only then is an incoming trace context worth parsing.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// A version-00 `traceparent` is 55 bytes; later versions may add fields. Longer values are
/// ignored rather than copied.
const MAX_TRACEPARENT: usize = 256;
/// W3C trace context: vendors may drop a `tracestate` longer than 512 characters.
const MAX_TRACESTATE: usize = 512;

/// An installed trace exporter. Dropping it flushes the spans still buffered and stops the
/// exporter; keep it alive for the life of the process (`let _telemetry = ...` in `main`).
#[must_use = "dropping the guard shuts the exporter down"]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry").finish_non_exhaustive()
    }
}

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter could not be built (e.g. an unsupported protocol).
    #[error("OpenTelemetry exporter: {0}")]
    Exporter(String),
    /// A global `tracing` subscriber is installed already.
    #[error("a tracing subscriber is installed already: {0}")]
    Subscriber(String),
}

impl Telemetry {
    /// The exporter the environment describes, or `None` when it names no collector.
    pub fn from_env() -> Result<Option<Self>, TelemetryError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Telemetry::from_env`] over any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, TelemetryError> {
        let set = |name: &str| get(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let off = set("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        let endpoint = match (set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), set("OTEL_EXPORTER_OTLP_ENDPOINT")) {
            (Some(traces), _) => traces,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        if off {
            return Ok(None);
        }
        let protocol = match set("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
            None | Some("http/protobuf") => Protocol::HttpBinary,
            Some("http/json") => Protocol::HttpJson,
            Some(other) => {
                return Err(TelemetryError::Exporter(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other} is not supported: use http/protobuf or http/json"
                )));
            }
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .with_protocol(protocol)
            .build()
            .map_err(|error| TelemetryError::Exporter(error.to_string()))?;
        let mut resource = opentelemetry_sdk::Resource::builder();
        if set("OTEL_SERVICE_NAME").is_none() {
            let executable = std::env::current_exe().ok();
            let name = executable.as_deref().and_then(|path| path.file_stem()).and_then(|stem| stem.to_str());
            resource = resource.with_service_name(name.unwrap_or("accord").to_owned());
        }
        let provider =
            SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build();
        Ok(Some(Self { provider }))
    }

    /// The `tracing` layer that turns spans into OpenTelemetry spans, for an app that builds its
    /// own subscriber (put [`log_filter`] in front of it to keep dependencies' bodies out).
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        EXPORTING.store(true, Ordering::Release);
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("accord"))
    }

    /// Exports every span still buffered, waiting for the collector: it blocks the thread, so
    /// call it from `spawn_blocking` in async code.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        self.provider.force_flush().map_err(|error| TelemetryError::Exporter(error.to_string()))
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("OpenTelemetry: spans may be lost on shutdown: {error}");
        }
    }
}

/// [`init_logging`](crate::init_logging) plus, when the environment names a collector, span
/// export: one global subscriber with the same filter (`RUST_LOG`, body-logging dependencies
/// capped) in front of both, so the exported spans hold no more than the logs may.
pub fn init(format: LogFormat) -> Result<Option<Telemetry>, TelemetryError> {
    let telemetry = Telemetry::from_env()?;
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let (text, json) = match format {
        LogFormat::Text => (Some(tracing_subscriber::fmt::layer()), None),
        LogFormat::Json => {
            let json = tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(true);
            (None, Some(json))
        }
    };
    let exporting = telemetry.as_ref().map(Telemetry::layer);
    tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .with(exporting)
        .try_init()
        .map_err(|error| TelemetryError::Subscriber(error.to_string()))?;
    if telemetry.is_some() {
        tracing::info!("exporting traces over OTLP/HTTP");
    }
    Ok(telemetry)
}

/// The W3C trace headers of an HTTP request (or WebSocket upgrade), kept in the caller's
/// extensions for its calls.
#[derive(Clone, Debug)]
pub(crate) struct TraceHeaders {
    traceparent: Box<str>,
    tracestate: Option<Box<str>>,
}

/// Whether spans are exported (a collector is configured): the call span carries its
/// OpenTelemetry attributes only then.
pub(crate) fn exporting() -> bool {
    EXPORTING.load(Ordering::Acquire)
}

/// The trace headers of a request, if spans are exported and it has any.
pub(crate) fn trace_headers(headers: &http::HeaderMap) -> Option<TraceHeaders> {
    if !EXPORTING.load(Ordering::Acquire) {
        return None;
    }
    let traceparent = headers.get("traceparent")?.to_str().ok()?.into();
    let tracestate = headers.get("tracestate").and_then(|v| v.to_str().ok()).map(Into::into);
    Some(TraceHeaders { traceparent, tracestate })
}

/// Makes `span` continue the caller's trace (`meta` first, else the request's headers) and
/// records its trace id. Does nothing unless spans are exported.
pub(crate) fn continue_trace(span: &tracing::Span, meta: (Option<&str>, Option<&str>), headers: Option<&TraceHeaders>) {
    if !EXPORTING.load(Ordering::Acquire) {
        return;
    }
    let (traceparent, tracestate) = match (meta, headers) {
        ((Some(traceparent), tracestate), _) => (Some(traceparent), tracestate),
        (_, Some(headers)) => (Some(&*headers.traceparent), headers.tracestate.as_deref()),
        _ => (None, None),
    };
    let traceparent = traceparent.filter(|value| value.len() <= MAX_TRACEPARENT);
    let tracestate = tracestate.filter(|value| value.len() <= MAX_TRACESTATE);
    if let Some(traceparent) = traceparent {
        let mut carrier = HashMap::with_capacity(2);
        carrier.insert("traceparent".to_owned(), traceparent.to_owned());
        if let Some(tracestate) = tracestate {
            carrier.insert("tracestate".to_owned(), tracestate.to_owned());
        }
        let parent = TraceContextPropagator::new().extract(&carrier);
        if parent.span().span_context().is_valid() {
            // Fails only when the span is disabled (filtered out): nothing to continue then.
            let _ = span.set_parent(parent);
        }
    }
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", tracing::field::display(span_context.trace_id()));
    }
}
