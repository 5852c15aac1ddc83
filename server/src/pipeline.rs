//! The per-call middleware: every call goes through [`Pipeline::call`], whether it came alone
//! over HTTP, inside a batch, or on a WebSocket; batches fan out to it entry by entry
//! (`dispatch`), so no concern can be skipped by batching.
//!
//! Order: method lookup → request id → transport check → authentication → rate limits →
//! in-flight limits → deadline + panic guard around the handler → metrics and access log. A
//! cheap refusal (auth, rate limit) never costs an in-flight slot or a handler run.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::{
    Cx, Deadline, FrameworkCode, Handler, Identity, ItemStream, Kind, RateLimitedData, RequestId, RetryHintData,
    RpcError, TimeoutData,
};
use futures_util::FutureExt;
use serde_json::value::RawValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::access_log::{AccessLog, CallRecord};
use crate::auth::{self, Authentication};
use crate::caller::{Caller, Transport};
use crate::metrics::ProcedureMetrics;
use crate::protocol::Call;
use crate::rate_limit::{CallerKey, Decision, RateLimiter};
use crate::request_id;

/// The rate-limit rule id of the server-wide (all procedures) limit.
pub(crate) const GLOBAL_RULE: &str = "*";

/// Everything the pipeline knows about one procedure, resolved at start-up.
pub(crate) struct Procedure {
    pub name: &'static str,
    pub kind: Kind,
    /// A subscription whose items carry event ids (it honours `meta.lastEventId`).
    pub tracked: bool,
    pub authenticated: bool,
    pub timeout: Duration,
    pub in_flight: Option<Arc<Semaphore>>,
    /// How the procedure's own rate limit (rule id = its name) keys callers, if it has one.
    pub rate_limit: Option<CallerKey>,
    pub metrics: ProcedureMetrics,
    /// The procedure's domain error codes, to label outcomes without allocating.
    pub codes: &'static [accord::ErrorCase],
    pub handler: Handler,
}

/// State shared by every call of a server.
pub(crate) struct Pipeline {
    pub procedures: HashMap<&'static str, Procedure>,
    /// `<subscription>.unsubscribe` method names.
    pub unsubscribe: HashSet<&'static str>,
    pub in_flight: Arc<Semaphore>,
    pub rate_limiter: Option<RateLimiter>,
    /// How the server-wide rate limit keys callers, if there is one.
    pub global_rate_limit: Option<CallerKey>,
    pub access_log: AccessLog,
}

/// What a call came to.
pub(crate) enum Outcome {
    /// A query's or mutation's answer (or any call's error).
    Answer(Result<Box<RawValue>, RpcError>),
    /// A subscription that opened: its items are forwarded on the WebSocket.
    Subscribed(Opened),
}

/// An open subscription, before its first item.
pub(crate) struct Opened {
    pub method: &'static str,
    pub items: ItemStream,
    /// The subscribe call's request id: its closing error carries it.
    pub request_id: RequestId,
    /// The identity it was opened with: it ends when that identity does.
    pub identity: Option<Identity>,
    /// An `EVENTS_MISSED` marker to send before the first item: the subscriber asked to resume
    /// a subscription that is not tracked.
    pub missed: Option<RpcError>,
}

/// What running the handler produced.
enum Ran {
    Answer(Box<RawValue>),
    Items(ItemStream),
}

impl Pipeline {
    /// Runs one call through every concern. Errors carry `data.requestId`.
    pub(crate) async fn call(&self, caller: &Caller, call: &Call<'_>, batch_size: Option<usize>) -> Outcome {
        let started = Instant::now();
        let request_id = caller.request_id.clone().unwrap_or_else(request_id::generate);
        let Some(procedure) = self.procedures.get(&*call.method) else {
            let error = RpcError::framework(
                FrameworkCode::MethodNotFound,
                format!("no procedure is named `{}`", call.method.escape_debug()),
            );
            return Outcome::Answer(Err(with_request_id(error, &request_id)));
        };
        let authentication = caller.authentication();
        let identity = match &authentication {
            Authentication::Authenticated(identity) => Some(identity.clone()),
            _ => None,
        };

        let span = call_span(procedure.name, &request_id);
        #[cfg(feature = "otel")]
        crate::telemetry::continue_trace(
            &span,
            (call.meta.traceparent.as_deref(), call.meta.tracestate.as_deref()),
            caller.extensions.get::<crate::telemetry::TraceHeaders>(),
        );
        let ran = self.run(procedure, caller, call, &request_id, &authentication).instrument(span.clone()).await;

        let outcome = match &ran {
            Ok(_) => "OK",
            Err(error) => {
                record_error(&span, error);
                outcome_label(error, procedure)
            }
        };
        let duration = started.elapsed();
        procedure.metrics.finished(outcome, duration.as_secs_f64());
        // Inside the span: the access log line carries its fields (the trace id among them).
        let _in_span = span.enter();
        self.access_log.record(&CallRecord {
            request_id: request_id.as_str(),
            method: procedure.name,
            kind: procedure.kind.as_str(),
            outcome,
            duration,
            identity: identity.as_ref().map(Identity::subject),
            batch_size,
        });
        match ran {
            Ok(Ran::Answer(result)) => Outcome::Answer(Ok(result)),
            Ok(Ran::Items(items)) => {
                let missed = match &call.meta.last_event_id {
                    Some(id) if !procedure.tracked => {
                        Some(RpcError::events_missed(Some(id.as_str()), accord::MissedReason::Unknown))
                    }
                    _ => None,
                };
                Outcome::Subscribed(Opened { method: procedure.name, items, request_id, identity, missed })
            }
            Err(error) => Outcome::Answer(Err(with_request_id(error, &request_id))),
        }
    }

    /// The checks, then the handler under its deadline and panic guard.
    async fn run(
        &self,
        procedure: &Procedure,
        caller: &Caller,
        call: &Call<'_>,
        request_id: &RequestId,
        authentication: &Authentication,
    ) -> Result<Ran, RpcError> {
        if procedure.kind == Kind::Subscription && caller.transport != Transport::WebSocket {
            return Err(RpcError::framework(
                FrameworkCode::InvalidRequest,
                "subscriptions are served over WebSocket only: connect to ws://.../rpc",
            ));
        }
        let identity = match authentication {
            Authentication::Refused(error) => return Err(error.clone()),
            Authentication::Authenticated(identity) if identity.is_expired() => return Err(auth::revoked()),
            Authentication::Authenticated(identity) => Some(identity),
            Authentication::Anonymous if procedure.authenticated => {
                return Err(RpcError::framework(
                    FrameworkCode::Unauthenticated,
                    "this procedure needs a signed-in caller",
                ));
            }
            Authentication::Anonymous => None,
        };
        self.check_rate_limits(procedure, caller, identity).await?;
        let _permits = self.admit(procedure)?;

        let timeout =
            [caller.requested_timeout, call.meta.timeout].into_iter().flatten().fold(procedure.timeout, Duration::min);
        let mut extensions = caller.extensions.clone();
        extensions.insert(request_id.clone());
        extensions.insert(Deadline(Instant::now() + timeout));
        // `cx.kind()`: lets an app route by kind (read pool for queries) without a table of names.
        extensions.insert(procedure.kind);
        if let Some(identity) = identity {
            extensions.insert(identity.clone());
        }
        let mut cx = Cx::from_extensions(extensions);
        if procedure.kind == Kind::Subscription
            && let Some(id) = &call.meta.last_event_id
        {
            cx = cx.with_last_event_id(id.clone());
        }
        let params = call.params.map(RawValue::get);

        procedure.metrics.in_flight.increment(1.0);
        let _in_flight = InFlight(&procedure.metrics);
        // The handler may panic while building its future or while running it: both are caught.
        let guarded = match &procedure.handler {
            Handler::Call(handler) => match std::panic::catch_unwind(AssertUnwindSafe(|| handler(cx, params))) {
                Ok(future) => AssertUnwindSafe(async move { future.await.map(Ran::Answer) }).catch_unwind().boxed(),
                Err(panic) => return Err(panicked(&*panic)),
            },
            Handler::Subscribe(handler) => match std::panic::catch_unwind(AssertUnwindSafe(|| handler(cx, params))) {
                Ok(future) => AssertUnwindSafe(async move { future.await.map(Ran::Items) }).catch_unwind().boxed(),
                Err(panic) => return Err(panicked(&*panic)),
            },
        };
        match tokio::time::timeout(timeout, guarded).await {
            Ok(Ok(ran)) => ran,
            Ok(Err(panic)) => Err(panicked(&*panic)),
            // Dropping the handler's future cancels it at its next await.
            Err(_) => Err(RpcError::from_data(
                FrameworkCode::Timeout,
                format!("no answer within {timeout:?}"),
                TimeoutData { timeout_ms: Some(millis(timeout)) },
            )),
        }
    }

    async fn check_rate_limits(
        &self,
        procedure: &Procedure,
        caller: &Caller,
        identity: Option<&Identity>,
    ) -> Result<(), RpcError> {
        let Some(limiter) = &self.rate_limiter else { return Ok(()) };
        // The procedure's own rule first: a call it refuses then costs no global budget.
        let rules = [(procedure.rate_limit, procedure.name), (self.global_rate_limit, GLOBAL_RULE)];
        for (key, rule) in rules.iter().filter_map(|(key, rule)| Some((key.as_ref()?, *rule))) {
            let caller_key = key.of(&caller.address_key, identity);
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

    /// Takes a global and a per-procedure in-flight slot, or refuses at once.
    fn admit(&self, procedure: &Procedure) -> Result<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>), RpcError> {
        let overloaded = || {
            procedure.metrics.overloaded.increment(1);
            let hint = RetryHintData { retry_after_ms: Some(100), limit: None };
            RpcError::from_data(FrameworkCode::Overloaded, "the server is at capacity; retry shortly", hint)
        };
        let global = self.in_flight.clone().try_acquire_owned().map_err(|_| overloaded())?;
        let local = match &procedure.in_flight {
            Some(slots) => Some(slots.clone().try_acquire_owned().map_err(|_| overloaded())?),
            None => None,
        };
        Ok((global, local))
    }
}

/// The span of one call, with the OpenTelemetry RPC semantic-convention attributes
/// (`otel.*` fields are how `tracing-opentelemetry` names and kinds a span). Filled in later:
/// `trace_id` (when traces are exported), `rpc.jsonrpc.error_code` and the status on failure.
fn call_span(method: &'static str, request_id: &RequestId) -> tracing::Span {
    tracing::info_span!(
        "accord.call",
        request_id = request_id.as_str(),
        method,
        trace_id = tracing::field::Empty,
        otel.name = method,
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        rpc.system = "jsonrpc",
        rpc.method = method,
        rpc.jsonrpc.version = "2.0",
        rpc.jsonrpc.error_code = tracing::field::Empty,
    )
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

/// Decrements the in-flight gauge however the call ends (including cancellation).
struct InFlight<'a>(&'a ProcedureMetrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.decrement(1.0);
    }
}

/// Milliseconds for an error's `data`, saturating.
pub(crate) fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
}

/// Logs a panic's message (never sent) and answers `INTERNAL`.
pub(crate) fn panicked(panic: &(dyn std::any::Any + Send)) -> RpcError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".into());
    tracing::error!(panic = %message, "a procedure panicked; answered INTERNAL");
    RpcError::internal()
}

/// Adds the call's request id to an error's `data`, as every error the server sends carries it.
pub(crate) fn with_request_id(error: RpcError, request_id: &RequestId) -> RpcError {
    error.with_data_field("requestId", request_id.as_str())
}

/// `data.code` of an error as a `'static` label (the procedure's own codes, the framework's,
/// else `UNKNOWN`), straight from the typed error: nothing is re-parsed.
fn outcome_label(error: &RpcError, procedure: &Procedure) -> &'static str {
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
