//! A server for testing Accord clients (and clients of any language speaking `docs/wire.md`):
//! procedures that fail on demand, sleep, accept subscriptions late, and report what the server
//! saw: when each attempt arrived, the deadline a call was given, whether the server cancelled
//! it, how many HTTP requests carried a burst of calls, who called.
//!
//! `@accord/client`'s live tests and the Rust client's tests run against it
//! (`cargo run -p accord-probe --bin probe-server`, or [`serve`] in a test).

mod api;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use accord::{Cx, FrameworkCode, Identity, RateLimitedData, RetryHintData, RpcError, Stream};
pub use api::*;
use futures_util::StreamExt;

/// Keys remembered at most; past it the oldest state is forgotten (a test server still bounds
/// what clients can grow).
const MAX_KEYS: usize = 10_000;

/// The probe's state, shared by its procedures and its authenticator.
#[derive(Clone)]
pub struct ProbeServer {
    shared: Arc<Shared>,
}

struct Shared {
    started: Instant,
    http_requests: AtomicU32,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    attempts: HashMap<String, Vec<u32>>,
    sleeps: HashMap<String, SleepReport>,
    streams: HashMap<String, (u32, u32)>,
}

impl State {
    fn bound(&mut self) {
        if self.attempts.len() + self.sleeps.len() + self.streams.len() > MAX_KEYS {
            *self = State::default();
        }
    }
}

impl Default for ProbeServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeServer {
    /// A probe with no history.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                started: Instant::now(),
                http_requests: AtomicU32::new(0),
                state: Mutex::new(State::default()),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update is a single insert or assignment: a poisoned lock is still consistent.
        self.shared.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> u32 {
        u32::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(u32::MAX)
    }

    fn flaky(&self, input: Flaky) -> Result<Attempts, ProbeError> {
        let at_ms = {
            let mut state = self.state();
            state.bound();
            let attempts = state.attempts.entry(input.key.clone()).or_default();
            attempts.push(self.now_ms());
            attempts.clone()
        };
        if at_ms.len() > input.failures as usize {
            return Ok(Attempts { key: input.key, at_ms });
        }
        let message = format!("failing on purpose ({} of {})", at_ms.len(), input.failures);
        let error = match input.failure {
            Failure::RateLimited => RpcError::from_data(
                FrameworkCode::RateLimited,
                message,
                RateLimitedData { retry_after_ms: input.retry_after_ms.unwrap_or(50) },
            ),
            Failure::Unavailable => RpcError::from_data(
                FrameworkCode::Unavailable,
                message,
                RetryHintData { retry_after_ms: input.retry_after_ms, limit: None },
            ),
            Failure::Overloaded => RpcError::from_data(
                FrameworkCode::Overloaded,
                message,
                RetryHintData { retry_after_ms: input.retry_after_ms, limit: None },
            ),
            Failure::Internal => RpcError::internal(),
        };
        Err(error.into())
    }

    fn set_sleep(&self, report: SleepReport) {
        let mut state = self.state();
        state.bound();
        state.sleeps.insert(report.key.clone(), report);
    }

    fn stream_count(&self, key: &str, opened: i32, open: i32) {
        let mut state = self.state();
        state.bound();
        let (total, now) = state.streams.entry(key.to_owned()).or_default();
        *total = total.saturating_add_signed(opened);
        *now = now.saturating_add_signed(open);
    }
}

fn deadline_ms(cx: &Cx) -> Option<u32> {
    cx.remaining().map(|left| u32::try_from(left.as_millis()).unwrap_or(u32::MAX))
}

/// Marks a `sleep` call cancelled when the server drops it before it finished.
struct SleepGuard {
    probe: ProbeServer,
    report: SleepReport,
    finished: bool,
}

impl Drop for SleepGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.probe.set_sleep(SleepReport { state: SleepState::Cancelled, ..self.report.clone() });
        }
    }
}

/// Counts a `lateTicks` stream as closed when the server drops it.
struct StreamGuard {
    probe: ProbeServer,
    key: String,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.probe.stream_count(&self.key, 0, -1);
    }
}

impl Probe for ProbeServer {
    async fn flaky(&self, _: &Cx, input: Flaky) -> Result<Attempts, ProbeError> {
        ProbeServer::flaky(self, input)
    }

    async fn flaky_write(&self, _: &Cx, input: Flaky) -> Result<Attempts, ProbeError> {
        ProbeServer::flaky(self, input)
    }

    async fn flaky_put(&self, _: &Cx, input: Flaky) -> Result<Attempts, ProbeError> {
        ProbeServer::flaky(self, input)
    }

    async fn attempts(&self, _: &Cx, input: Key) -> Result<Attempts, ProbeError> {
        let at_ms = self.state().attempts.get(&input.key).cloned().unwrap_or_default();
        Ok(Attempts { key: input.key, at_ms })
    }

    async fn sleep(&self, cx: &Cx, input: Sleep) -> Result<SleepReport, ProbeError> {
        let report = SleepReport { key: input.key, state: SleepState::Running, deadline_ms: deadline_ms(cx) };
        self.set_sleep(report.clone());
        let mut guard = SleepGuard { probe: self.clone(), report, finished: false };
        tokio::time::sleep(Duration::from_millis(input.ms.into())).await;
        guard.finished = true;
        let done = SleepReport { state: SleepState::Completed, ..guard.report.clone() };
        self.set_sleep(done.clone());
        Ok(done)
    }

    async fn sleep_report(&self, _: &Cx, input: Key) -> Result<SleepReport, ProbeError> {
        let known = self.state().sleeps.get(&input.key).cloned();
        Ok(known.unwrap_or(SleepReport { key: input.key, state: SleepState::Unknown, deadline_ms: None }))
    }

    async fn whoami(&self, cx: &Cx) -> Result<Caller, ProbeError> {
        Ok(Caller {
            subject: cx.identity().map(|i| i.subject().to_owned()),
            request_id: cx.request_id().map(|id| id.as_str().to_owned()),
            deadline_ms: deadline_ms(cx),
            http_requests: self.shared.http_requests.load(Ordering::Relaxed),
        })
    }

    async fn echo(&self, _: &Cx, input: Text) -> Result<Text, ProbeError> {
        if input.text == "refuse" {
            return Err(ProbeError::Refused);
        }
        Ok(input)
    }

    async fn late_ticks(&self, _: &Cx, input: LateTicks) -> Result<Stream<u32, ProbeError>, ProbeError> {
        tokio::time::sleep(Duration::from_millis(input.delay_ms.into())).await;
        self.stream_count(&input.key, 1, 1);
        let guard = StreamGuard { probe: self.clone(), key: input.key };
        let ticks = futures_util::stream::unfold((0u32, guard), |(n, guard)| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok(n), (n + 1, guard)))
        });
        Ok(ticks.boxed())
    }

    async fn streams(&self, _: &Cx, input: Key) -> Result<Streams, ProbeError> {
        let (opened, open) = self.state().streams.get(&input.key).copied().unwrap_or_default();
        Ok(Streams { key: input.key, opened, open })
    }
}

impl accord_server::Authenticator for ProbeServer {
    /// Counts requests; `Authorization: Bearer <name>` names the caller, anything else is anonymous.
    async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
        self.shared.http_requests.fetch_add(1, Ordering::Relaxed);
        let bearer =
            request.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "));
        Ok(bearer.map(Identity::new))
    }
}

/// Serves a fresh probe on `addr` (`127.0.0.1:0` for any free port).
pub async fn serve(addr: &str) -> Result<accord_server::RunningServer, accord_server::ServeError> {
    let probe = ProbeServer::new();
    accord_server::Server::builder().mount(ProbeApi::handlers(probe.clone()))?.authenticator(probe).serve(addr).await
}
