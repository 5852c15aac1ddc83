//! The server: configuration, the accept loop, and shutdown.
//!
//! Connections are accepted here rather than by jsonrpsee's own loop so that the peer address
//! reaches every call (rate limits key anonymous callers by IP), the connection limit is
//! enforced before any byte is read, and shutdown can drain: readiness goes false, open
//! subscriptions end with `UNAVAILABLE`, no new connection is accepted, and in-flight calls get
//! a grace period to finish.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use accord::{Handler, Handlers};
use jsonrpsee::core::middleware::RpcServiceBuilder;
use jsonrpsee::server::{
    BatchRequestConfig, RandomStringIdProvider, RegisterMethodError, ServerConfig, ServerHandle, stop_channel,
};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{Semaphore, watch};

use crate::access_log::AccessLog;
use crate::auth::{Authenticator, DynAuthenticator};
use crate::config::{Limits, Policy};
use crate::connection::{PeerService, serve_connection};
use crate::health::{self, Health};
use crate::http_context::HttpContextLayer;
use crate::metrics::Metrics;
use crate::module::rpc_module;
use crate::pipeline::{GLOBAL_RULE, PipelineLayer, Procedure, Shared};
use crate::rate_limit::{RateLimit, RateLimitBackend, RateLimitError, RateLimiter};
use crate::routes::RoutesLayer;
use crate::static_files::StaticFiles;

/// Why a server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Two mounted APIs (or one API twice) define the same wire method.
    #[error("the method `{name}` is defined twice; each namespace can be mounted once")]
    Register {
        /// The wire name.
        name: &'static str,
        /// What jsonrpsee said.
        #[source]
        source: RegisterMethodError,
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
            return Err(ServeError::Register {
                name: procedure.name,
                source: RegisterMethodError::AlreadyRegistered(procedure.name.to_owned()),
            });
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

    /// The server's metrics registry, to add the app's own series before serving.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Binds `address` and starts serving in the background.
    pub async fn serve(self, address: impl ToSocketAddrs) -> Result<RunningServer, ServeError> {
        let (draining_tx, draining_rx) = watch::channel(false);
        let module = rpc_module(&self.apis, draining_rx)?;
        let shared = self.shared().await?;
        let health = Health::new(self.readiness);

        let limits = &self.limits;
        let config = ServerConfig::builder()
            .max_request_body_size(limits.max_request_body_bytes)
            .max_response_body_size(limits.max_response_body_bytes)
            .max_connections(u32::try_from(limits.max_connections).unwrap_or(u32::MAX))
            .max_subscriptions_per_connection(limits.max_subscriptions_per_connection)
            .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch_len))
            .set_id_provider(RandomStringIdProvider::new(16))
            .build();
        if let Some(files) = &self.static_files {
            tracing::info!(dir = %files.dir().display(), "serving static files at /");
        }
        let routes =
            RoutesLayer { health: health.clone(), metrics: self.metrics.clone(), static_files: self.static_files };
        let rate_limited = self.global_rate_limit.is_some() || self.policies.values().any(|p| p.rate_limit.is_some());
        let context = HttpContextLayer { authenticator: self.authenticator, rate_limited };
        let services = jsonrpsee::server::Server::builder()
            .set_config(config)
            .set_rpc_middleware(RpcServiceBuilder::new().layer(PipelineLayer(shared)))
            .set_http_middleware(tower::ServiceBuilder::new().layer(routes).layer(context))
            .to_service_builder();

        let listener = TcpListener::bind(address).await.map_err(ServeError::Bind)?;
        let local_addr = listener.local_addr().map_err(ServeError::Bind)?;
        let (stop, handle) = stop_channel();
        let methods: jsonrpsee::Methods = module.into();
        let connections = Arc::new(Semaphore::new(self.limits.max_connections));
        tokio::spawn(upkeep(self.metrics.clone(), stop.clone()));
        let open = self.metrics.gauge("accord_connections_open", &[]);
        let rejected = self.metrics.counter("accord_connections_rejected_total", &[]);

        tokio::spawn(async move {
            loop {
                let (socket, peer) = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(error) => {
                            tracing::warn!(%error, "accept failed");
                            continue;
                        }
                    },
                    () = stop.clone().shutdown() => break,
                };
                let Ok(permit) = connections.clone().try_acquire_owned() else {
                    rejected.increment(1);
                    drop(socket);
                    continue;
                };
                let service = PeerService { inner: services.clone().build(methods.clone(), stop.clone()), peer };
                tokio::spawn(serve_connection(socket, service, stop.clone(), open.clone(), permit));
            }
        });

        Ok(RunningServer {
            local_addr,
            handle,
            draining: draining_tx,
            health,
            shutdown_grace: self.shutdown_grace,
            metrics: self.metrics,
        })
    }

    /// Resolves every procedure's policy into the pipeline's shared state.
    async fn shared(&self) -> Result<Arc<Shared>, ServeError> {
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
                if let (Handler::Subscribe(_), Some(name)) = (handler, description.unsubscribe) {
                    unsubscribe.insert(name);
                }
                procedures.insert(
                    description.name,
                    Procedure {
                        kind: description.kind,
                        authenticated: description.authenticated,
                        timeout: policy.timeout.unwrap_or(self.default_timeout),
                        in_flight: policy.max_in_flight.map(|n| Arc::new(Semaphore::new(n))),
                        rate_limited: policy.rate_limit.is_some(),
                        metrics: self.metrics.procedure(description.name, description.kind.as_str()),
                        codes: description.errors,
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
        Ok(Arc::new(Shared {
            procedures,
            unsubscribe,
            in_flight: Arc::new(Semaphore::new(self.limits.max_in_flight)),
            rate_limiter,
            global_rate_limit: self.global_rate_limit.is_some(),
            access_log: self.access_log.clone(),
            batch_concurrency: self.limits.batch_concurrency,
            max_response_bytes: self.limits.max_response_body_bytes as usize,
        }))
    }
}

/// Folds metric samples every few seconds until the server stops.
async fn upkeep(metrics: Metrics, stop: jsonrpsee::server::StopHandle) {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    let stopped = stop.shutdown();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = every.tick() => metrics.upkeep(),
            () = &mut stopped => return,
        }
    }
}

/// A started server. Dropping it does not stop it: call [`RunningServer::shutdown`] (graceful)
/// or [`RunningServer::stop`].
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    handle: ServerHandle,
    draining: watch::Sender<bool>,
    health: Health,
    shutdown_grace: Duration,
    metrics: Metrics,
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

    /// Starts draining and stops accepting connections, without waiting: readiness turns
    /// false, subscriptions end with `UNAVAILABLE`, open connections finish their in-flight
    /// calls and close. Await [`RunningServer::stopped`] to wait for the end.
    pub fn stop(&self) {
        self.health.start_draining();
        let _ = self.draining.send(true);
        // Already stopped is fine: stopping is idempotent for callers.
        let _ = self.handle.stop();
    }

    /// Resolves when every connection has closed after [`RunningServer::stop`].
    pub async fn stopped(self) {
        self.handle.stopped().await
    }

    /// Graceful shutdown: [`stop`](Self::stop), then wait for in-flight calls up to the grace
    /// period. Returns `true` when everything finished in time.
    pub async fn shutdown(self) -> bool {
        self.stop();
        let grace = self.shutdown_grace;
        let finished = tokio::time::timeout(grace, self.handle.stopped()).await.is_ok();
        if !finished {
            tracing::warn!(?grace, "calls still running after the shutdown grace period; abandoning them");
        }
        finished
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully. For a binary's `main`.
    pub async fn run_until_signal(self) -> bool {
        crate::shutdown::signal().await;
        tracing::info!("shutdown signal received; draining");
        self.shutdown().await
    }
}
