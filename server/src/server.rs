//! The server: configuration, start-up, and shutdown.
//!
//! Accord serves JSON-RPC itself, on hyper's HTTP/1 server and tokio-tungstenite, rather than
//! through jsonrpsee's server: conformance (ids echoed as sent, notifications answered with
//! nothing, RFC 6455 close codes and masking), connection hygiene (per-phase timeouts, idle
//! reclaim) and per-call control (deadlines from `meta`, revocation on open sockets) all need
//! the parts jsonrpsee keeps inside. See `docs/wire.md` for the contract.
//!
//! Shutdown drains: readiness goes false, no new connection is accepted, open subscriptions end
//! with `UNAVAILABLE`, in-flight calls get the grace period; after it, whatever still runs is
//! dropped (cancelled at its next await) and the server reports it did not drain.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use accord::{Handler, Handlers};
use ipnet::IpNet;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access_log::AccessLog;
use crate::auth::{Authenticator, DynAuthenticator};
use crate::client_address::TrustedProxies;
use crate::config::{Limits, Policy};
use crate::connections::Connections;
use crate::dispatch::MessageLimits;
use crate::health::{self, Health};
use crate::metrics::Metrics;
use crate::pipeline::{GLOBAL_RULE, Pipeline, Procedure};
use crate::rate_limit::{RateLimit, RateLimitBackend, RateLimitError, RateLimiter};
use crate::service::Shared;
use crate::static_files::StaticFiles;

/// Why a server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Two mounted APIs (or one API twice) define the same wire method.
    #[error("the method `{name}` is defined twice; each namespace can be mounted once")]
    Register {
        /// The wire name.
        name: &'static str,
    },
    /// A subscription's description lacks its unsubscribe name (a bug in generated code).
    #[error("the subscription `{0}` has no unsubscribe method name")]
    MissingUnsubscribe(&'static str),
    /// A policy names a procedure that is not mounted.
    #[error("a policy is set for `{0}`, which no mounted API defines")]
    UnknownProcedure(String),
    /// The rate limiter could not be set up.
    #[error("rate limiting: {0}")]
    RateLimit(#[from] RateLimitError),
    /// The address could not be bound.
    #[error("could not listen: {0}")]
    Bind(#[source] std::io::Error),
}

/// The default deadline of every call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time in-flight calls get to finish on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Builds a [`Server`]. Every setting has a production default; see the README's table.
pub struct ServerBuilder {
    apis: Vec<Handlers>,
    limits: Limits,
    default_timeout: Duration,
    policies: HashMap<String, Policy>,
    global_rate_limit: Option<RateLimit>,
    rate_limit_backend: RateLimitBackend,
    authenticator: Option<Arc<dyn DynAuthenticator>>,
    access_log: AccessLog,
    readiness: Vec<health::Check>,
    shutdown_grace: Duration,
    metrics: Metrics,
    static_files: Option<StaticFiles>,
    trusted_proxies: TrustedProxies,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("apis", &self.apis.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// An Accord server. Create one with [`Server::builder`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with nothing mounted and every default in place.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            apis: Vec::new(),
            limits: Limits::default(),
            default_timeout: DEFAULT_TIMEOUT,
            policies: HashMap::new(),
            global_rate_limit: None,
            rate_limit_backend: RateLimitBackend::Memory,
            authenticator: None,
            access_log: AccessLog::default(),
            readiness: Vec::new(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            metrics: Metrics::new(),
            static_files: None,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl ServerBuilder {
    /// Mounts an implementation's handlers (`<Trait>Api::handlers(implementation)`).
    ///
    /// Fails when one of its wire methods is already mounted.
    pub fn mount(mut self, handlers: Handlers) -> Result<Self, ServeError> {
        let taken: HashSet<&str> = self.apis.iter().flat_map(|api| api.iter().map(|(p, _)| p.name)).collect();
        if let Some((procedure, _)) = handlers.iter().find(|(p, _)| taken.contains(p.name)) {
            return Err(ServeError::Register { name: procedure.name });
        }
        self.apis.push(handlers);
        Ok(self)
    }

    /// Server-wide limits (body sizes, connections, batches, in-flight calls).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The deadline of calls whose procedure sets none (default 30 s).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// How one procedure (by wire name, e.g. `"auth.login"`) is served.
    pub fn procedure(mut self, name: impl Into<String>, policy: Policy) -> Self {
        self.policies.insert(name.into(), policy);
        self
    }

    /// A limit on each caller's calls across all procedures.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.global_rate_limit = Some(limit);
        self
    }

    /// Where rate-limit counters live (default: in memory).
    pub fn rate_limit_backend(mut self, backend: RateLimitBackend) -> Self {
        self.rate_limit_backend = backend;
        self
    }

    /// Recognises callers once per HTTP request or WebSocket connection.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Access-log settings (default: every error, one success in ten).
    pub fn access_log(mut self, access_log: AccessLog) -> Self {
        self.access_log = access_log;
        self
    }

    /// A check that must pass for `/readyz` to answer 200, e.g. a database ping.
    pub fn readiness_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.readiness.push((name.into(), health::check(check)));
        self
    }

    /// How long in-flight calls may take to finish on shutdown (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Serves the files in `dir` for `GET`/`HEAD` requests outside `/rpc`, `/healthz`, `/readyz`
    /// and `/metrics`, e.g. a built web frontend. An extension-less path that names no file gets
    /// `dir/index.html`, so a single-page app's own routes work on reload.
    pub fn static_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.static_files = Some(StaticFiles::new(dir));
        self
    }

    /// Proxies (addresses or networks, e.g. `"10.0.0.0/8".parse()?`) whose forwarding
    /// headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) name the client. From any other
    /// peer those headers are ignored: the client is the TCP peer. Default: none.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.trusted_proxies = TrustedProxies::new(proxies);
        self
    }

    /// The server's metrics registry, to add the app's own series before serving.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Binds `address` and starts serving in the background.
    pub async fn serve(self, address: impl ToSocketAddrs) -> Result<RunningServer, ServeError> {
        let listener = TcpListener::bind(address).await.map_err(ServeError::Bind)?;
        let local_addr = listener.local_addr().map_err(ServeError::Bind)?;
        let pipeline = self.pipeline().await?;
        if let Some(files) = &self.static_files {
            tracing::info!(dir = %files.dir().display(), "serving static files at /");
        }
        let (draining_tx, draining) = watch::channel(false);
        let message_limits = self.message_limits();
        let limits = self.limits;
        let health = Health::new(self.readiness);
        let tasks = TaskTracker::new();
        let abandon = CancellationToken::new();
        let connections = Connections::new(
            limits.max_connections,
            limits.header_read_timeout,
            limits.keep_alive_timeout,
            self.metrics.gauge("accord_connections_open", &[]),
        );
        let shared = Arc::new(Shared {
            pipeline,
            limits,
            message_limits,
            authenticator: self.authenticator,
            trusted_proxies: self.trusted_proxies,
            health: health.clone(),
            metrics: self.metrics.clone(),
            static_files: self.static_files,
            draining,
            abandon: abandon.clone(),
            tasks: tasks.clone(),
        });
        let finished = CancellationToken::new();
        tokio::spawn(upkeep(self.metrics.clone(), finished.clone()));
        tokio::spawn(connections.clone().sweep(finished.clone()));
        let rejected = self.metrics.counter("accord_connections_rejected_total", &[]);
        tasks.spawn(crate::listener::accept(listener, shared, connections, rejected));

        Ok(RunningServer {
            local_addr,
            draining: draining_tx,
            health,
            shutdown_grace: self.shutdown_grace,
            metrics: self.metrics,
            tasks,
            abandon,
            finished,
        })
    }

    pub(crate) fn message_limits(&self) -> MessageLimits {
        MessageLimits {
            max_batch_len: self.limits.max_batch_len as usize,
            batch_concurrency: self.limits.batch_concurrency,
            max_response_bytes: self.limits.max_response_body_bytes as usize,
        }
    }

    /// Resolves every procedure's policy into the pipeline.
    pub(crate) async fn pipeline(&self) -> Result<Pipeline, ServeError> {
        let mut procedures = HashMap::new();
        let mut unsubscribe = HashSet::new();
        let mut rules = Vec::new();
        if let Some(limit) = self.global_rate_limit {
            rules.push((GLOBAL_RULE.to_owned(), limit));
        }
        for api in &self.apis {
            for (description, handler) in api.iter() {
                let policy = self.policies.get(description.name).cloned().unwrap_or_default();
                if let Some(limit) = policy.rate_limit {
                    rules.push((description.name.to_owned(), limit));
                }
                if let Handler::Subscribe(_) = handler {
                    let name = description.unsubscribe.ok_or(ServeError::MissingUnsubscribe(description.name))?;
                    unsubscribe.insert(name);
                }
                procedures.insert(
                    description.name,
                    Procedure {
                        name: description.name,
                        kind: description.kind,
                        tracked: description.tracked,
                        authenticated: description.authenticated,
                        timeout: policy.timeout.unwrap_or(self.default_timeout),
                        in_flight: policy.max_in_flight.map(|n| Arc::new(Semaphore::new(n))),
                        rate_limit: policy.rate_limit.map(|limit| limit.key()),
                        metrics: self.metrics.procedure(description.name, description.kind.as_str()),
                        codes: description.errors,
                        handler: handler.clone(),
                    },
                );
            }
        }
        if let Some(name) = self.policies.keys().find(|name| !procedures.contains_key(name.as_str())) {
            return Err(ServeError::UnknownProcedure(name.clone()));
        }
        let rate_limiter = if rules.is_empty() {
            None
        } else {
            let backend = self.rate_limit_backend.clone();
            Some(RateLimiter::new(backend, rules).await?)
        };
        Ok(Pipeline {
            procedures,
            unsubscribe,
            in_flight: Arc::new(Semaphore::new(self.limits.max_in_flight)),
            rate_limiter,
            global_rate_limit: self.global_rate_limit.map(|limit| limit.key()),
            access_log: self.access_log.clone(),
        })
    }
}

/// Folds metric samples every few seconds until the server stops.
async fn upkeep(metrics: Metrics, finished: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = every.tick() => metrics.upkeep(),
            () = finished.cancelled() => return,
        }
    }
}

/// A started server. Dropping it does not stop it: call [`RunningServer::shutdown`] (graceful)
/// or [`RunningServer::stop`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    draining: watch::Sender<bool>,
    health: Health,
    shutdown_grace: Duration,
    metrics: Metrics,
    tasks: TaskTracker,
    abandon: CancellationToken,
    finished: CancellationToken,
}

impl RunningServer {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://<addr>/rpc`.
    pub fn http_url(&self) -> String {
        format!("http://{}{}", self.local_addr, crate::RPC_PATH)
    }

    /// `ws://<addr>/rpc`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}", self.local_addr, crate::RPC_PATH)
    }

    /// The server's metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Starts draining, without waiting: readiness turns false, the listener closes,
    /// subscriptions end with `UNAVAILABLE`, idle connections close, busy ones finish their
    /// in-flight calls and close. Await [`RunningServer::stopped`] to wait for the end.
    pub fn stop(&self) {
        self.health.start_draining();
        self.draining.send_replace(true);
        self.tasks.close();
    }

    /// Resolves when every connection has closed after [`RunningServer::stop`] (however long
    /// its calls take; [`RunningServer::shutdown`] bounds the wait).
    pub async fn stopped(self) {
        self.tasks.wait().await;
        self.finished.cancel();
    }

    /// Graceful shutdown with a hard bound: [`stop`](Self::stop), then wait for in-flight
    /// calls up to the grace period. Calls still running then are dropped (cancelled at their
    /// next await point) and their connections closed. Returns `true` when everything finished
    /// within the grace period.
    ///
    /// Blocking work a handler started (`spawn_blocking`) cannot be cancelled; a binary that
    /// must exit on time should end its process after this returns rather than wait for the
    /// runtime to drop (see the shop example's `main`).
    pub async fn shutdown(self) -> bool {
        self.stop();
        let grace = self.shutdown_grace;
        let drained = tokio::time::timeout(grace, self.tasks.wait()).await.is_ok();
        if !drained {
            tracing::warn!(?grace, "calls still running after the shutdown grace period; abandoning them");
            self.abandon.cancel();
            // Dropping them takes an instant; a task stuck in blocking code is left behind.
            let _ = tokio::time::timeout(Duration::from_secs(1), self.tasks.wait()).await;
        }
        self.finished.cancel();
        drained
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully. For a binary's `main`.
    pub async fn run_until_signal(self) -> bool {
        crate::shutdown::signal().await;
        tracing::info!("shutdown signal received; draining");
        self.shutdown().await
    }
}
