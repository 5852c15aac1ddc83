//! The three ways `bench.echo` is served, chosen with `BENCH_STACK`:
//!
//! - `raw`: plain jsonrpsee 0.26, `register_method("bench.echo")` that decodes [`Echo`] and
//!   returns it. No middleware, no validation: the floor Accord is compared against.
//! - `default`: `accord_server::Server` with nothing configured (request ids, metrics, access
//!   log sampling 1 in 10 with no subscriber installed, deadlines, in-flight limits, panic guard,
//!   garde validation).
//! - `full`: Accord with everything on: a bearer-token [`Authenticator`], a per-procedure and a
//!   global rate limit (10 000 000/s each, so they never trigger but are checked on every call),
//!   the access log sampling one success in a hundred, and a `tracing` subscriber at `info`
//!   writing to stderr (installed by the `bench-server` binary, see [`install_tracing`]).
//!
//! `BENCH_FULL_WITHOUT` (a comma-separated list of `auth`, `ratelimit`, `log`, `tracing`,
//! `spans`) switches parts of `full` off, to measure what each one costs.

use std::fmt;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::str::FromStr;

use accord::{FrameworkCode, Identity, RpcError};
use accord_server::{AccessLog, Authenticator, Policy, RateLimit, RunningServer, Server, ServerBuilder};
use jsonrpsee::RpcModule;
use jsonrpsee::server::{ServerConfig, ServerHandle};
use tracing_subscriber::EnvFilter;

use crate::api::{BenchApi, Echo, Echoer};

/// The bearer token the `full` stack recognises (`Authorization: Bearer bench-token`).
pub const TOKEN: &str = "bench-token";
/// The wire name of the benchmarked procedure.
pub const METHOD: &str = "bench.echo";
/// The per-procedure and global rate limit of the `full` stack: far above what two cores serve.
pub const HIGH_RATE: u32 = 10_000_000;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which server to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// Plain jsonrpsee.
    Raw,
    /// Accord with its defaults.
    Default,
    /// Accord with every middleware on.
    Full,
}

impl Stack {
    /// The `BENCH_STACK` value naming this stack.
    pub fn as_str(self) -> &'static str {
        match self {
            Stack::Raw => "raw",
            Stack::Default => "default",
            Stack::Full => "full",
        }
    }
}

impl FromStr for Stack {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "raw" => Ok(Stack::Raw),
            "default" => Ok(Stack::Default),
            "full" => Ok(Stack::Full),
            other => Err(format!("BENCH_STACK must be raw, default or full, got {other:?}")),
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parts of the `full` stack switched off (`BENCH_FULL_WITHOUT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Without {
    /// No authenticator.
    pub auth: bool,
    /// Neither rate limit.
    pub rate_limit: bool,
    /// Access log sampling 0 (errors only).
    pub access_log: bool,
    /// No tracing subscriber at all.
    pub tracing: bool,
    /// The subscriber filters out the per-call `accord.call` span (`accord_server::call=warn`).
    pub spans: bool,
}

impl FromStr for Without {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut without = Without::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "auth" => without.auth = true,
                "ratelimit" => without.rate_limit = true,
                "log" => without.access_log = true,
                "tracing" => without.tracing = true,
                "spans" => without.spans = true,
                other => {
                    return Err(format!(
                        "BENCH_FULL_WITHOUT lists auth, ratelimit, log, tracing, spans; got {other:?}"
                    ));
                }
            }
        }
        Ok(without)
    }
}

/// Recognises `Authorization: Bearer bench-token` as the caller `bench`; no header is anonymous,
/// any other value is refused.
#[derive(Clone, Copy, Debug, Default)]
pub struct BearerToken;

impl Authenticator for BearerToken {
    async fn authenticate(&self, request: &http::request::Parts) -> Result<Option<Identity>, RpcError> {
        let Some(value) = request.headers.get(http::header::AUTHORIZATION) else { return Ok(None) };
        match value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) {
            Some(TOKEN) => Ok(Some(Identity::new("bench"))),
            _ => Err(RpcError::framework(FrameworkCode::Unauthenticated, "unknown token")),
        }
    }
}

/// Installs the `full` stack's subscriber: text lines on stderr, `RUST_LOG` or `info` (with
/// `accord_server::call=warn` added when `without.spans`). Process-global, so the binary
/// calls it, not [`serve`]. Does nothing when `without.tracing`.
pub fn install_tracing(without: Without) {
    if without.tracing {
        return;
    }
    let default = if without.spans { "info,accord_server::call=warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

/// A started benchmark server of any stack.
#[derive(Debug)]
pub enum BenchServer {
    /// Plain jsonrpsee.
    Raw {
        /// Stops the server.
        handle: ServerHandle,
        /// Where it listens.
        addr: SocketAddr,
    },
    /// An Accord server.
    Accord(RunningServer),
}

impl BenchServer {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        match self {
            BenchServer::Raw { addr, .. } => *addr,
            BenchServer::Accord(server) => server.local_addr(),
        }
    }

    /// `http://<addr>/rpc` (the raw server answers on any path; `/rpc` keeps URLs identical).
    pub fn http_url(&self) -> String {
        format!("http://{}{}", self.local_addr(), accord_server::RPC_PATH)
    }

    /// Stops gracefully (in-flight calls finish). Returns `true` when everything finished in time.
    pub async fn shutdown(self) -> bool {
        match self {
            BenchServer::Raw { handle, .. } => {
                // Already stopped is fine.
                let _ = handle.stop();
                handle.stopped().await;
                true
            }
            BenchServer::Accord(server) => server.shutdown().await,
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully. The signals are listened
    /// for from this call on (see `RunningServer::run_until_signal`).
    pub fn run_until_signal(self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send>> {
        match self {
            BenchServer::Raw { handle, .. } => {
                let signal = shutdown_signal();
                Box::pin(async move {
                    signal.await;
                    let _ = handle.stop();
                    handle.stopped().await;
                    true
                })
            }
            BenchServer::Accord(server) => Box::pin(server.run_until_signal()),
        }
    }
}

/// Starts `stack` on `addr`. `without` only matters for [`Stack::Full`].
pub async fn serve(stack: Stack, without: Without, addr: SocketAddr) -> Result<BenchServer, BoxError> {
    match stack {
        Stack::Raw => serve_raw(addr).await,
        accord => Ok(BenchServer::Accord(builder(accord, without)?.serve(addr).await?)),
    }
}

/// The Accord server of `stack` (`default` or `full`), not yet serving: [`serve`] binds it, the
/// in-process `layers` benchmark builds it. `raw` has none: it is the default stack then.
pub fn builder(stack: Stack, without: Without) -> Result<ServerBuilder, BoxError> {
    let mut builder = Server::builder().mount(BenchApi::handlers(Echoer))?;
    if stack != Stack::Full {
        return Ok(builder);
    }
    if !without.auth {
        builder = builder.authenticator(BearerToken);
    }
    if !without.rate_limit {
        let limit = RateLimit::per_second(HIGH_RATE);
        builder = builder.procedure(BenchApi::ECHO, Policy::new().rate_limit(limit)).rate_limit(limit);
    }
    let sample = if without.access_log { 0.0 } else { 0.01 };
    Ok(builder.access_log(AccessLog::default().success_sample_rate(sample)))
}

/// Plain jsonrpsee: the same method, decoded with serde and echoed, nothing else.
async fn serve_raw(addr: SocketAddr) -> Result<BenchServer, BoxError> {
    let mut module = RpcModule::new(());
    module.register_method(METHOD, |params, _, _| params.parse::<Echo>())?;
    // jsonrpsee's default is 100 connections; Accord's is 1024. Same limit for both.
    let config = ServerConfig::builder().max_connections(1024).build();
    let server = jsonrpsee::server::Server::builder().set_config(config).build(addr).await?;
    let addr = server.local_addr()?;
    let handle = server.start(module);
    Ok(BenchServer::Raw { handle, addr })
}

/// SIGINT or SIGTERM, listened for from this call on.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        tokio::select! {
            () = next(interrupt.as_mut()) => {}
            () = next(terminate.as_mut()) => {}
        }
    }
}

/// The next delivery of `signal`; never, without one.
async fn next(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}
