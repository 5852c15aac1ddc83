//! The server once built: serving on its own listener ([`RunningServer`]) or mounted in another
//! app ([`Server`]), and shutdown.
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

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::health::Health;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimitError;
use crate::service::{Routes, Shared};
use crate::tower_service::AccordService;

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
    /// A policy names a procedure that is not mounted (its API is not, or discovery is off).
    #[error("a policy is set for `{0}`, which no mounted API defines")]
    UnknownProcedure(String),
    /// The rate limiter could not be set up.
    #[error("rate limiting: {0}")]
    RateLimit(#[from] RateLimitError),
    /// The OpenRPC document for `rpc.discover` could not be built.
    #[error("rpc.discover: {0}")]
    OpenRpc(#[from] accord::openrpc::OpenRpcError),
    /// The address could not be bound.
    #[error("could not listen: {0}")]
    Bind(#[source] std::io::Error),
}

/// A built server, not listening: mount its [`service`](Server::service) or
/// [`rpc_service`](Server::rpc_service) in another app (an axum router, say), and call
/// [`shutdown`](Server::shutdown) when that app stops. Build one with
/// [`ServerBuilder::build`](crate::ServerBuilder::build).
///
/// ```no_run
/// # async fn run(builder: accord_server::ServerBuilder) -> Result<(), Box<dyn std::error::Error>> {
/// use std::net::SocketAddr;
///
/// let accord = builder.build().await?;
/// let app = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "home" }))
///     .nest_service("/rpc", accord.rpc_service())
///     .route_service("/healthz", accord.service());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// // `ConnectInfo` tells Accord each caller's address (rate limits, trusted proxies).
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
///     .with_graceful_shutdown(accord.shutdown_signal())
///     .await?;
/// accord.shutdown().await;
/// # Ok(()) }
/// ```
pub struct Server {
    pub(crate) shared: Arc<Shared>,
    pub(crate) draining: watch::Sender<bool>,
    pub(crate) health: Health,
    pub(crate) shutdown_grace: Duration,
    pub(crate) metrics: Metrics,
    pub(crate) tasks: TaskTracker,
    pub(crate) abandon: CancellationToken,
    pub(crate) finished: CancellationToken,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("health", &self.health).finish_non_exhaustive()
    }
}

impl Server {
    /// Every route of the standalone server: JSON-RPC at `/rpc`, `/healthz`, `/readyz`,
    /// `/metrics`, static files, else 404. Mount it as a fallback, or route single paths to it.
    pub fn service(&self) -> AccordService {
        AccordService::new(self.shared.clone(), Routes::All, true)
    }

    /// JSON-RPC (`POST` and WebSocket upgrades) on every path: for mounting under a prefix,
    /// `Router::nest_service("/rpc", server.rpc_service())`.
    pub fn rpc_service(&self) -> AccordService {
        AccordService::new(self.shared.clone(), Routes::RpcOnly, true)
    }

    /// The server's metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Starts draining, without waiting: readiness turns false, subscriptions end with
    /// `UNAVAILABLE`, new WebSockets are refused and late calls on open ones answered
    /// `UNAVAILABLE`. Await [`Server::stopped`] or use [`Server::shutdown`] to wait.
    pub fn stop(&self) {
        self.health.start_draining();
        self.draining.send_replace(true);
        self.tasks.close();
    }

    /// Resolves on SIGINT or SIGTERM, after calling [`stop`](Self::stop): for a host app's
    /// graceful shutdown (`axum::serve(..).with_graceful_shutdown(server.shutdown_signal())`).
    /// The signals are listened for from this call on, not from the first poll.
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let (health, draining, tasks) = (self.health.clone(), self.draining.clone(), self.tasks.clone());
        let signal = crate::shutdown::signal();
        async move {
            signal.await;
            tracing::info!("shutdown signal received; draining");
            health.start_draining();
            draining.send_replace(true);
            tasks.close();
        }
    }

    /// Resolves when every connection (or WebSocket, when mounted) has closed after
    /// [`stop`](Self::stop), however long its calls take.
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
}

/// A started server. Dropping it does not stop it: call [`RunningServer::shutdown`] (graceful)
/// or [`RunningServer::stop`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    server: Server,
}

impl RunningServer {
    pub(crate) fn new(local_addr: SocketAddr, server: Server) -> Self {
        Self { local_addr, server }
    }

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
        self.server.metrics()
    }

    /// Starts draining, without waiting: readiness turns false, the listener closes,
    /// subscriptions end with `UNAVAILABLE`, idle connections close, busy ones finish their
    /// in-flight calls and close. Await [`RunningServer::stopped`] to wait for the end.
    pub fn stop(&self) {
        self.server.stop();
    }

    /// Resolves when every connection has closed after [`RunningServer::stop`] (however long
    /// its calls take; [`RunningServer::shutdown`] bounds the wait).
    pub async fn stopped(self) {
        self.server.stopped().await;
    }

    /// Graceful shutdown with a hard bound: see [`Server::shutdown`].
    pub async fn shutdown(self) -> bool {
        self.server.shutdown().await
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully ([`shutdown`](Self::shutdown)).
    /// For a binary's `main`.
    ///
    /// The signals are listened for from the moment this is called, not from the first poll:
    /// call it before announcing readiness, so that a SIGTERM sent right after the announcement
    /// drains the server instead of killing the process.
    ///
    /// ```no_run
    /// # async fn run(server: accord_server::RunningServer) {
    /// let url = server.http_url();
    /// let serving = server.run_until_signal();
    /// println!("listening on {url}");
    /// let drained = serving.await;
    /// # let _ = drained;
    /// # }
    /// ```
    pub fn run_until_signal(self) -> impl Future<Output = bool> + Send + 'static {
        let signal = crate::shutdown::signal();
        async move {
            signal.await;
            tracing::info!("shutdown signal received; draining");
            self.shutdown().await
        }
    }
}
