//! Where a call enters the server: [`Pipeline::call`] finds the procedure, gives the call its
//! request id and [`Cx`], and runs it through the per-call stack (`call`), whether it came
//! alone over HTTP, inside a batch, or on a WebSocket; batches fan out to it entry by entry
//! (`dispatch`), so no layer can be skipped by batching.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use accord::{Cx, FrameworkCode, Handler, Identity, ItemStream, Kind, RequestId, RpcError};
use serde_json::value::RawValue;
use tokio::sync::Semaphore;

use crate::auth::Authentication;
use crate::call::{Call, DynCallService, Reply};
use crate::caller::Caller;
use crate::metrics::ProcedureMetrics;
use crate::protocol;
use crate::rate_limit::CallerKey;
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
    /// The per-call stack (`call`), composed once.
    pub stack: Box<dyn DynCallService>,
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

impl Pipeline {
    /// Runs one call through the per-call stack. Errors carry `data.requestId`.
    pub(crate) async fn call(
        &self,
        caller: &Caller,
        request: &protocol::Call<'_>,
        batch_size: Option<usize>,
    ) -> Outcome {
        let request_id = caller.request_id.clone().unwrap_or_else(request_id::generate);
        let Some(procedure) = self.procedures.get(&*request.method) else {
            let error = RpcError::framework(
                FrameworkCode::MethodNotFound,
                format!("no procedure is named `{}`", request.method.escape_debug()),
            );
            return Outcome::Answer(Err(with_request_id(error, &request_id)));
        };
        let authentication = caller.authentication();
        let identity = match &authentication {
            Authentication::Authenticated(identity) => Some(identity.clone()),
            _ => None,
        };
        // `cx.kind()`: lets an app route by kind (read pool for queries) without a table of names.
        let mut cx = Cx::new()
            .with_request_id(request_id.clone())
            .with_kind(procedure.kind)
            .with_shared_extensions(caller.extensions.clone());
        if let Some(identity) = &identity {
            cx = cx.with_identity(identity.clone());
        }
        if procedure.kind == Kind::Subscription
            && let Some(id) = &request.meta.last_event_id
        {
            cx = cx.with_last_event_id(id.clone());
        }
        let call = Call { procedure, caller, request, batch_size, authentication, cx };
        match self.stack.call_boxed(call).await {
            Ok(Reply::Value(result)) => Outcome::Answer(Ok(result)),
            Ok(Reply::Items(items)) => {
                let missed = match &request.meta.last_event_id {
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
