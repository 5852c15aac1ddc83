//! Liveness and readiness.
//!
//! `/healthz` answers 200 while the process serves at all. `/readyz` answers 200 only when the
//! server is not draining and every registered readiness check (a database ping, say) passes
//! within its timeout; otherwise 503 with the failing check's name, so a load balancer stops
//! sending traffic before shutdown and while a dependency is down.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = dyn Fn() -> CheckFuture + Send + Sync;
/// A named readiness check.
pub(crate) type Check = (String, Arc<CheckFn>);

/// How long one readiness check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The server's health state: the draining flag and the readiness checks.
#[derive(Clone, Default)]
pub(crate) struct Health {
    draining: Arc<AtomicBool>,
    checks: Arc<Vec<Check>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").field("draining", &self.is_draining()).field("checks", &self.checks.len()).finish()
    }
}

impl Health {
    pub(crate) fn new(checks: Vec<Check>) -> Self {
        Self { draining: Arc::default(), checks: Arc::new(checks) }
    }

    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// `Ok` when ready, else why not.
    pub(crate) async fn ready(&self) -> Result<(), String> {
        if self.is_draining() {
            return Err("draining: the server is shutting down".into());
        }
        for (name, check) in self.checks.iter() {
            match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(Ok(())) => {}
                Ok(Err(why)) => return Err(format!("{name}: {why}")),
                Err(_) => return Err(format!("{name}: no answer within {CHECK_TIMEOUT:?}")),
            }
        }
        Ok(())
    }
}

/// Wraps a user's async check into the stored form.
pub(crate) fn check<F, Fut>(f: F) -> Arc<CheckFn>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(f()) as CheckFuture)
}
