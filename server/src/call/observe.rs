//! Layer 1, outermost: what the server tells its operators about a call. The call runs inside
//! its span (`accord.call`, target `accord_server::call`); when it ends, the procedure's
//! metrics (outcome counter, duration histogram) are recorded and the access log gets its line
//! (every failure, a sample of successes), inside the span so the line carries its fields.
//!
//! The outcome label comes straight from the typed error (`data.code`, matched against the
//! procedure's declared codes and the framework's to get a `'static` label): nothing is
//! serialised or re-parsed to label a call.
//!
//! The span carries the OpenTelemetry RPC attributes (`otel.*`, `rpc.*`) only when spans are
//! exported (`telemetry::init` found a collector): a `fmt` subscriber would otherwise format a
//! dozen fields per call that nobody reads.

use std::time::Instant;

use accord::{FrameworkCode, RpcError};
use tracing::Instrument;

use super::{Call, CallService, Reply};
use crate::access_log::{AccessLog, CallRecord};
use crate::pipeline::Procedure;

/// The target of the per-call span, to filter it (`accord_server::call=warn` turns it off).
pub const SPAN_TARGET: &str = "accord_server::call";

/// See the module docs.
pub struct Observe<S> {
    access_log: AccessLog,
    inner: S,
}

impl<S> Observe<S> {
    pub(crate) fn new(access_log: AccessLog, inner: S) -> Self {
        Self { access_log, inner }
    }
}

impl<S: CallService> CallService for Observe<S> {
    async fn call(&self, call: Call<'_>) -> Result<Reply, RpcError> {
        let started = Instant::now();
        let procedure = call.procedure;
        let request_id = call.cx.request_id().cloned();
        let request_id = request_id.as_ref().map_or("", |id| id.as_str());
        let identity = call.cx.identity().cloned();
        let batch_size = call.batch_size;
        let span = span(procedure.name, request_id);
        #[cfg(feature = "otel")]
        crate::telemetry::continue_trace(
            &span,
            (call.request.meta.traceparent.as_deref(), call.request.meta.tracestate.as_deref()),
            call.caller.extensions.get::<crate::telemetry::TraceHeaders>(),
        );
        let reply = self.inner.call(call).instrument(span.clone()).await;

        let outcome = match &reply {
            Ok(_) => "OK",
            Err(error) => {
                record_error(&span, error);
                outcome_label(error, procedure)
            }
        };
        let duration = started.elapsed();
        procedure.metrics.finished(outcome, duration.as_secs_f64());
        let _in_span = span.enter();
        self.access_log.record(&CallRecord {
            request_id,
            method: procedure.name,
            kind: procedure.kind.as_str(),
            outcome,
            duration,
            identity: identity.as_ref().map(accord::Identity::subject),
            batch_size,
        });
        reply
    }
}

/// The span of one call. With spans exported, it has the OpenTelemetry RPC semantic-convention
/// attributes (`otel.*` fields are how `tracing-opentelemetry` names and kinds a span), some
/// filled in later: `trace_id`, `rpc.jsonrpc.error_code` and the status on failure.
fn span(method: &'static str, request_id: &str) -> tracing::Span {
    #[cfg(feature = "otel")]
    if crate::telemetry::exporting() {
        return tracing::info_span!(
            target: SPAN_TARGET,
            "accord.call",
            request_id,
            method,
            trace_id = tracing::field::Empty,
            otel.name = method,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            rpc.system = "jsonrpc",
            rpc.method = method,
            rpc.jsonrpc.version = "2.0",
            rpc.jsonrpc.error_code = tracing::field::Empty,
        );
    }
    tracing::info_span!(target: SPAN_TARGET, "accord.call", request_id, method, rpc.jsonrpc.error_code = tracing::field::Empty)
}

/// Records a failed call on its span; failures that are the server's (not the caller's or the
/// domain's) mark the span as an error.
fn record_error(span: &tracing::Span, error: &RpcError) {
    span.record("rpc.jsonrpc.error_code", error.code);
    let server_fault = matches!(
        error.framework_code(),
        Some(FrameworkCode::Internal | FrameworkCode::Timeout | FrameworkCode::Unavailable | FrameworkCode::Overloaded)
    );
    if server_fault {
        span.record("otel.status_code", "ERROR");
    }
}

/// `data.code` of an error as a `'static` label (the procedure's own codes, the framework's,
/// else `UNKNOWN`), straight from the typed error.
pub(crate) fn outcome_label(error: &RpcError, procedure: &Procedure) -> &'static str {
    match error.data_code() {
        Some(code) => procedure
            .codes
            .iter()
            .find(|case| case.code == code)
            .map(|case| case.code)
            .or_else(|| FrameworkCode::from_name(code).map(FrameworkCode::as_str))
            .unwrap_or("UNKNOWN"),
        None => FrameworkCode::from_rpc_code(error.code).map_or("UNKNOWN", FrameworkCode::as_str),
    }
}
