//! Layer 5: the deadline and the panic guard, around the app's layers and the procedure.
//!
//! The deadline is the tightest of the procedure's timeout (`Policy::timeout`, else the
//! server's), the HTTP request's `x-accord-timeout-ms` and the call's `meta.timeoutMs`; the
//! procedure sees it as `cx.deadline()`. Past it the call is dropped (cancelled at its next
//! await) and answered `TIMEOUT`. A panic, while the future is built or while it runs, is
//! logged and answered `INTERNAL`; its message never reaches the client.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use accord::{FrameworkCode, RpcError, TimeoutData};
use futures_util::FutureExt;

use super::{Call, CallService, Reply};
use crate::pipeline::{millis, panicked};

/// See the module docs.
pub struct Guard<S> {
    inner: S,
}

impl<S> Guard<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S: CallService> CallService for Guard<S> {
    async fn call(&self, mut call: Call<'_>) -> Result<Reply, RpcError> {
        let timeout = [call.caller.requested_timeout, call.request.meta.timeout]
            .into_iter()
            .flatten()
            .fold(call.procedure.timeout, Duration::min);
        let deadline = Instant::now() + timeout;
        call.cx.set_deadline(deadline);
        let running = match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(call))) {
            Ok(running) => AssertUnwindSafe(running).catch_unwind(),
            Err(panic) => return Err(panicked(&*panic)),
        };
        // The same instant as the procedure's deadline, and one clock read instead of two.
        match tokio::time::timeout_at(deadline.into(), running).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(panic)) => Err(panicked(&*panic)),
            // Dropping the future cancels it at its next await.
            Err(_) => Err(RpcError::from_data(
                FrameworkCode::Timeout,
                format!("no answer within {timeout:?}"),
                TimeoutData { timeout_ms: Some(millis(timeout)) },
            )),
        }
    }
}
