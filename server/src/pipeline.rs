//! The per-call middleware: one jsonrpsee `RpcServiceT` that every call goes through, whether
//! it came alone over HTTP, inside a batch, or over a WebSocket.
//!
//! Order: method lookup → request id → transport check → authentication → rate limits →
//! in-flight limits → deadline + panic guard around the handler → metrics and access log.
//!
//! Why one service instead of a tower stack per concern: jsonrpsee's `batch()` does not go
//! through `call()`, so each layer would have to re-implement batching or be bypassed by it.
//! Here `batch()` fans the entries out to the very same `handle()` that `call()` uses (run
//! concurrently, bounded), so no concern can be skipped by batching. Each concern still lives
//! in its own module (`auth`, `rate_limit`, `metrics`, `access_log`...); this file only orders
//! them.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::{Deadline, FrameworkCode, Identity, Kind, RequestId, RpcError};
use futures_util::{FutureExt, StreamExt};
use jsonrpsee::core::middleware::{Batch, BatchEntry, BatchEntryErr, Notification, RpcServiceT};
use jsonrpsee::core::server::{BatchResponseBuilder, MethodResponse};
use jsonrpsee::types::{Id, Request};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::access_log::{AccessLog, CallRecord};
use crate::auth::Authentication;
use crate::error_object::{to_error_object, with_request_id};
use crate::http_context::{Caller, RequestedTimeout, WebSocket};
use crate::metrics::ProcedureMetrics;
use crate::rate_limit::{Decision, RateLimiter};
use crate::request_id;

/// The rate-limit rule id of the server-wide (all procedures) limit.
pub(crate) const GLOBAL_RULE: &str = "*";

/// Everything the pipeline knows about one procedure, resolved at start-up.
pub(crate) struct Procedure {
    pub kind: Kind,
    pub authenticated: bool,
    pub timeout: Duration,
    pub in_flight: Option<Arc<Semaphore>>,
    pub rate_limited: bool,
    pub metrics: ProcedureMetrics,
    /// The procedure's domain error codes, to label outcomes without allocating.
    pub codes: &'static [accord::ErrorCase],
}

/// State shared by every call of a server.
pub(crate) struct Shared {
    pub procedures: HashMap<&'static str, Procedure>,
    pub unsubscribe: HashSet<&'static str>,
    pub in_flight: Arc<Semaphore>,
    pub rate_limiter: Option<RateLimiter>,
    pub global_rate_limit: bool,
    pub access_log: AccessLog,
    pub batch_concurrency: usize,
    pub max_response_bytes: usize,
}

#[derive(Clone)]
pub(crate) struct PipelineLayer(pub Arc<Shared>);

impl<S> tower::Layer<S> for PipelineLayer {
    type Service = Pipeline<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Pipeline { inner, shared: self.0.clone() }
    }
}

/// What the pipeline wraps: jsonrpsee's own RPC service (answering with `MethodResponse`s).
pub(crate) trait Inner:
    RpcServiceT<MethodResponse = MethodResponse, NotificationResponse = MethodResponse, BatchResponse = MethodResponse>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> Inner for S where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            NotificationResponse = MethodResponse,
            BatchResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

#[derive(Clone)]
pub(crate) struct Pipeline<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S: Inner> RpcServiceT for Pipeline<S> {
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move { this.handle(request, None).await }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            let size = batch.len();
            let concurrency = this.shared.batch_concurrency;
            // `buffered` keeps the answers in request order while running up to `concurrency`
            // entries at once. (Futures are built in a loop, not a closure: a closure here
            // trips rustc's higher-ranked `Send` check on the borrowed entries.)
            let mut entries = Vec::with_capacity(size);
            for entry in batch {
                entries.push(this.clone().entry(entry, size));
            }
            let answers: Vec<Option<MethodResponse>> =
                futures_util::stream::iter(entries).buffered(concurrency).collect().await;
            let mut builder = BatchResponseBuilder::new_with_limit(this.shared.max_response_bytes);
            let mut only_notifications = true;
            for answer in answers.into_iter().flatten() {
                only_notifications = false;
                if let Err(too_big) = builder.append(answer) {
                    return too_big;
                }
            }
            if only_notifications && size > 0 {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(builder.finish())
            }
        }
    }

    fn notification<'a>(&self, notification: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        // Procedures are calls; a notification (no id) expects no answer and runs nothing.
        self.inner.notification(notification)
    }
}

impl<S: Inner> Pipeline<S> {
    async fn handle(&self, mut request: Request<'_>, batch_size: Option<usize>) -> MethodResponse {
        let started = Instant::now();
        let id = assign_request_id(request.extensions_mut());
        let Some((&method, procedure)) = self.shared.procedures.get_key_value(request.method_name()) else {
            if self.shared.unsubscribe.contains(request.method_name()) {
                return self.inner.call(request).await;
            }
            let message = format!("no procedure is named `{}`", request.method_name());
            let error = RpcError::framework(FrameworkCode::MethodNotFound, message);
            return error_response(request.id.into_owned(), error, &id);
        };
        let call_id = request.id.clone().into_owned();
        let identity = request.extensions().get::<Identity>().cloned();

        let span = tracing::info_span!("accord.call", request_id = id.as_str(), method);
        let outcome = self.run(procedure, request).instrument(span).await;

        let (response, code) = match outcome {
            Ok(response) => {
                let code = outcome_code(&response, procedure);
                (response, code)
            }
            Err(error) => {
                let code = error.framework_code().map_or("UNKNOWN", FrameworkCode::as_str);
                (error_response(call_id, error, &id), code)
            }
        };
        let duration = started.elapsed();
        procedure.metrics.finished(code, duration.as_secs_f64());
        self.shared.access_log.record(&CallRecord {
            request_id: id.as_str(),
            method,
            kind: procedure.kind.as_str(),
            outcome: code,
            duration,
            identity: identity.as_ref().map(Identity::subject),
            batch_size,
        });
        response
    }

    /// One batch entry: a call goes through [`Pipeline::handle`] like any other.
    async fn entry(self, entry: Result<BatchEntry<'_>, BatchEntryErr<'_>>, size: usize) -> Option<MethodResponse> {
        match entry {
            Ok(BatchEntry::Call(request)) => Some(self.handle(request, Some(size)).await),
            Ok(BatchEntry::Notification(notification)) => {
                self.inner.notification(notification).await;
                None
            }
            Err(error) => {
                let (error, id) = error.into_parts();
                Some(MethodResponse::error(id, error))
            }
        }
    }

    /// The checks, then the handler under its deadline and panic guard.
    async fn run(&self, procedure: &Procedure, mut request: Request<'_>) -> Result<MethodResponse, RpcError> {
        let extensions = request.extensions();
        let over_websocket = extensions.get::<WebSocket>().is_some();
        if procedure.kind == Kind::Subscription && !over_websocket {
            return Err(RpcError::framework(
                FrameworkCode::InvalidRequest,
                "subscriptions are served over WebSocket only: connect to ws://.../rpc",
            ));
        }
        match extensions.get::<Authentication>() {
            Some(Authentication::Refused(error)) => return Err(error.clone()),
            Some(Authentication::Authenticated(_)) => {}
            Some(Authentication::Anonymous) | None if procedure.authenticated => {
                return Err(RpcError::framework(
                    FrameworkCode::Unauthenticated,
                    "this procedure needs a signed-in caller",
                ));
            }
            _ => {}
        }
        if let Some(limiter) = &self.shared.rate_limiter {
            let caller = extensions.get::<Caller>().map_or("ip:unknown", |c| &c.0);
            let method = request.method_name();
            // The procedure's own rule first: a call it refuses then costs no global budget.
            let rules = [(procedure.rate_limited, method), (self.shared.global_rate_limit, GLOBAL_RULE)];
            for (_, rule) in rules.iter().filter(|(on, _)| *on) {
                if let Decision::Deny { retry_after } = limiter.check(rule, caller).await {
                    procedure.metrics.rate_limited.increment(1);
                    let retry_ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX).max(1);
                    return Err(RpcError::framework(FrameworkCode::RateLimited, "too many calls; retry later")
                        .with_data_field("retryAfterMs", retry_ms));
                }
            }
        }
        let _permits = self.admit(procedure)?;

        let timeout = match extensions.get::<RequestedTimeout>() {
            Some(RequestedTimeout(asked)) => procedure.timeout.min(*asked),
            None => procedure.timeout,
        };
        let extensions = request.extensions_mut();
        extensions.insert(Deadline(Instant::now() + timeout));
        // `cx.kind()`: lets an app route by kind (read pool for queries) without a table of names.
        extensions.insert(procedure.kind);

        procedure.metrics.in_flight.increment(1.0);
        let _in_flight = InFlight(&procedure.metrics);
        let call = AssertUnwindSafe(self.inner.call(request)).catch_unwind();
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(panic)) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic payload".into());
                tracing::error!(panic = %message, "a procedure panicked; answered INTERNAL");
                Err(RpcError::internal())
            }
            // Dropping the handler's future cancels it at its next await.
            Err(_) => Err(RpcError::framework(FrameworkCode::Timeout, format!("no answer within {timeout:?}"))),
        }
    }

    /// Takes a global and a per-procedure in-flight slot, or refuses at once.
    fn admit(&self, procedure: &Procedure) -> Result<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>), RpcError> {
        let overloaded = || {
            procedure.metrics.overloaded.increment(1);
            RpcError::framework(FrameworkCode::Overloaded, "the server is at capacity; retry shortly")
        };
        let global = self.shared.in_flight.clone().try_acquire_owned().map_err(|_| overloaded())?;
        let local = match &procedure.in_flight {
            Some(slots) => Some(slots.clone().try_acquire_owned().map_err(|_| overloaded())?),
            None => None,
        };
        Ok((global, local))
    }
}

/// Decrements the in-flight gauge however the call ends (including cancellation).
struct InFlight<'a>(&'a ProcedureMetrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.decrement(1.0);
    }
}

/// HTTP calls keep the id the HTTP layer chose (it is echoed as a header); each WebSocket call
/// gets its own, since they all share the connection's upgrade request.
fn assign_request_id(extensions: &mut http::Extensions) -> RequestId {
    match extensions.get::<RequestId>() {
        Some(id) if extensions.get::<WebSocket>().is_none() => id.clone(),
        _ => {
            let id = request_id::generate();
            extensions.insert(id.clone());
            id
        }
    }
}

fn error_response(id: Id<'static>, error: RpcError, request_id: &RequestId) -> MethodResponse {
    MethodResponse::error(id, to_error_object(with_request_id(error, Some(request_id))))
}

/// `OK`, or the `data.code` of the error the handler answered with (as a `'static` label).
fn outcome_code(response: &MethodResponse, procedure: &Procedure) -> &'static str {
    if response.is_success() || response.is_subscription() && !response.is_error() {
        return "OK";
    }
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        error: Option<Body<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Body<'a> {
        code: i32,
        #[serde(borrow)]
        data: Option<Data<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        code: Option<&'a str>,
    }
    let Ok(Envelope { error: Some(body) }) = serde_json::from_str::<Envelope<'_>>(response.as_json().get()) else {
        return "UNKNOWN";
    };
    match body.data.and_then(|d| d.code) {
        Some(code) => procedure
            .codes
            .iter()
            .find(|case| case.code == code)
            .map(|case| case.code)
            .or_else(|| FrameworkCode::from_name(code).map(FrameworkCode::as_str))
            .unwrap_or("UNKNOWN"),
        None => FrameworkCode::from_rpc_code(body.code).map_or("UNKNOWN", FrameworkCode::as_str),
    }
}
