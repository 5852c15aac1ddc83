//! The probe's procedures: each one lets a client test observe, from the server's side, what a
//! client feature did (how often and when a call arrived, which deadline it carried, whether
//! the server was told to stop, how many HTTP requests carried a burst of calls).

use accord::{Cx, RpcError, Stream};

/// Which failure `probe.flaky*` answers with.
#[accord::wire]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Failure {
    Unavailable,
    Overloaded,
    RateLimited,
    Internal,
}

/// Input of the `flaky` procedures: fail the first `failures` calls made with `key`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Flaky {
    pub key: String,
    pub failures: u32,
    pub failure: Failure,
    /// `data.retryAfterMs` of the failures (for `RATE_LIMITED` always set: default 50).
    #[serde(default)]
    pub retry_after_ms: Option<u32>,
}

/// Every call the probe saw for a key.
#[accord::wire]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attempts {
    pub key: String,
    /// When each call arrived, in ms since the probe started.
    pub at_ms: Vec<u32>,
}

#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub key: String,
}

/// Input of `probe.sleep`.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Sleep {
    pub key: String,
    pub ms: u32,
}

/// How a `probe.sleep` call went.
#[accord::wire]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SleepState {
    /// No call with this key yet.
    Unknown,
    Running,
    Completed,
    /// The server stopped the call before it finished (its deadline passed, or the client went).
    Cancelled,
}

#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct SleepReport {
    pub key: String,
    pub state: SleepState,
    /// The time the server gave the call when it started, in ms.
    pub deadline_ms: Option<u32>,
}

/// Who the server thinks is calling, and how.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    /// From `Authorization: Bearer <subject>`.
    pub subject: Option<String>,
    pub request_id: Option<String>,
    /// The time the server gave this call, in ms.
    pub deadline_ms: Option<u32>,
    /// HTTP requests (and WebSocket upgrades) the probe has served so far.
    pub http_requests: u32,
}

#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub text: String,
}

/// Input of `probe.lateTicks`: accept after `delay_ms`, then tick every 20 ms.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct LateTicks {
    pub key: String,
    pub delay_ms: u32,
}

/// How many `probe.lateTicks` streams with a key are open on the server.
#[accord::wire]
#[derive(Clone, Debug, PartialEq)]
pub struct Streams {
    pub key: String,
    pub opened: u32,
    pub open: u32,
}

#[accord::error]
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// Refused on purpose (`probe.echo` with the text `refuse`).
    #[error("refused on purpose")]
    #[accord(code = 4000)]
    Refused,
    #[error(transparent)]
    #[accord(rpc)]
    Rpc(RpcError),
}

/// A server for testing clients.
#[accord::procedures(namespace = "probe")]
pub trait Probe {
    /// Fails the first `failures` calls made with `key`, then answers every attempt so far.
    #[query]
    async fn flaky(&self, cx: &Cx, input: Flaky) -> Result<Attempts, ProbeError>;

    /// `flaky` as a mutation that is not idempotent: clients must never retry it.
    #[mutation]
    async fn flaky_write(&self, cx: &Cx, input: Flaky) -> Result<Attempts, ProbeError>;

    /// `flaky` as an idempotent mutation: clients may retry it.
    #[mutation(idempotent)]
    async fn flaky_put(&self, cx: &Cx, input: Flaky) -> Result<Attempts, ProbeError>;

    /// Every call seen with `key` by the `flaky` procedures.
    #[query]
    async fn attempts(&self, cx: &Cx, input: Key) -> Result<Attempts, ProbeError>;

    /// Sleeps `ms`, unless the server cancels the call first.
    #[query]
    async fn sleep(&self, cx: &Cx, input: Sleep) -> Result<SleepReport, ProbeError>;

    /// How the `sleep` call with `key` went.
    #[query]
    async fn sleep_report(&self, cx: &Cx, input: Key) -> Result<SleepReport, ProbeError>;

    /// Who is calling, with which deadline, and how many HTTP requests the probe served.
    #[query]
    async fn whoami(&self, cx: &Cx) -> Result<Caller, ProbeError>;

    /// Answers its input (`refuse` is refused with `REFUSED`).
    #[query]
    async fn echo(&self, cx: &Cx, input: Text) -> Result<Text, ProbeError>;

    /// Accepts after `delay_ms`, then ticks every 20 ms.
    #[subscription]
    async fn late_ticks(&self, cx: &Cx, input: LateTicks) -> Result<Stream<u32, ProbeError>, ProbeError>;

    /// How many `lateTicks` streams with `key` were opened and are still open.
    #[query]
    async fn streams(&self, cx: &Cx, input: Key) -> Result<Streams, ProbeError>;
}
