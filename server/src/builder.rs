//! [`ServerBuilder`]: what a server serves and how, then [`serve`](ServerBuilder::serve) (on
//! Accord's own listener) or [`build`](ServerBuilder::build) (to mount in another app).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use accord::{Description, Handler, Handlers, ProcedureName};
use bytes::Bytes;
use http::{Request, Response};
use hyper::body::Incoming;
use ipnet::IpNet;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::layer::util::{Identity, Stack};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::access_log::AccessLog;
use crate::auth::{Authenticator, DynAuthenticator};
use crate::body;
use crate::call::CallService;
use crate::call::endpoint::Endpoint;
use crate::client_address::TrustedProxies;
use crate::config::{Limits, Policy};
use crate::connections::Connections;
use crate::cors::Cors;
use crate::dispatch::MessageLimits;
use crate::health::{self, Health};
use crate::metrics::Metrics;
use crate::pipeline::{GLOBAL_RULE, Pipeline, Procedure};
use crate::rate_limit::{RateLimit, RateLimitBackend, RateLimiter};
use crate::server::{RunningServer, ServeError, Server};
use crate::service::{Routes, Shared};
use crate::static_files::StaticFiles;
use crate::tower_service::AccordService;

/// The default deadline of every call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time in-flight calls get to finish on shutdown.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Builds a [`Server`]. Every setting has a production default; see the README's table.
///
/// `L` is the stack of HTTP layers added with [`layer`](ServerBuilder::layer), `C` the stack of
/// per-call layers added with [`call_layer`](ServerBuilder::call_layer).
pub struct ServerBuilder<L = Identity, C = Identity> {
    settings: Settings,
    layer: L,
    call_layer: C,
}

/// Everything but the layers.
struct Settings {
    apis: Vec<Handlers>,
    limits: Limits,
    default_timeout: Duration,
    policies: HashMap<&'static str, Policy>,
    global_rate_limit: Option<RateLimit>,
    rate_limit_backend: RateLimitBackend,
    authenticator: Option<Arc<dyn DynAuthenticator>>,
    access_log: AccessLog,
    readiness: Vec<health::Check>,
    shutdown_grace: Duration,
    metrics: Metrics,
    static_files: Option<StaticFiles>,
    trusted_proxies: TrustedProxies,
    cors: Option<Cors>,
    /// What `rpc.discover`'s document says about itself; `None` turns the method off.
    discovery: Option<accord::openrpc::Info>,
}

impl<L, C> std::fmt::Debug for ServerBuilder<L, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("apis", &self.settings.apis.len())
            .field("limits", &self.settings.limits)
            .field("cors", &self.settings.cors)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A builder with nothing mounted and every default in place.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            settings: Settings {
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
                cors: None,
                discovery: Some(accord::openrpc::Info::default()),
            },
            layer: Identity::new(),
            call_layer: Identity::new(),
        }
    }
}

impl<L, C> ServerBuilder<L, C> {
    /// Mounts an implementation's handlers (`<Trait>Api::handlers(implementation)`).
    ///
    /// Fails when one of its wire methods is already mounted.
    pub fn mount(mut self, handlers: Handlers) -> Result<Self, ServeError> {
        let apis = &self.settings.apis;
        let taken: HashSet<&str> = apis.iter().flat_map(|api| api.iter().map(|(p, _)| p.name)).collect();
        if let Some((procedure, _)) = handlers.iter().find(|(p, _)| taken.contains(p.name)) {
            return Err(ServeError::Register { name: procedure.name });
        }
        self.settings.apis.push(handlers);
        Ok(self)
    }

    /// Server-wide limits (body sizes, connections, batches, in-flight calls).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// The deadline of calls whose procedure sets none (default 30 s).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.settings.default_timeout = timeout;
        self
    }

    /// How one procedure is served, named by the constant its API defines
    /// (`AuthApi::LOGIN` for `auth.login`; [`DISCOVER`](crate::DISCOVER) for `rpc.discover`).
    pub fn procedure(mut self, name: ProcedureName, policy: Policy) -> Self {
        self.settings.policies.insert(name.as_str(), policy);
        self
    }

    /// A limit on each caller's calls across all procedures.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.settings.global_rate_limit = Some(limit);
        self
    }

    /// Where rate-limit counters live (default: in memory).
    pub fn rate_limit_backend(mut self, backend: RateLimitBackend) -> Self {
        self.settings.rate_limit_backend = backend;
        self
    }

    /// Recognises callers once per HTTP request or WebSocket connection.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.settings.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Access-log settings (default: every error, one success in ten).
    pub fn access_log(mut self, access_log: AccessLog) -> Self {
        self.settings.access_log = access_log;
        self
    }

    /// A check that must pass for `/readyz` to answer 200, e.g. a database ping.
    pub fn readiness_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.settings.readiness.push((name.into(), health::check(check)));
        self
    }

    /// How long in-flight calls may take to finish on shutdown (default 10 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.settings.shutdown_grace = grace;
        self
    }

    /// Serves the files in `dir` for `GET`/`HEAD` requests outside `/rpc`, `/healthz`, `/readyz`
    /// and `/metrics`, e.g. a built web frontend. An extension-less path that names no file gets
    /// `dir/index.html`, so a single-page app's own routes work on reload.
    pub fn static_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.settings.static_files = Some(StaticFiles::new(dir));
        self
    }

    /// Proxies (addresses or networks, e.g. `"10.0.0.0/8".parse()?`) whose forwarding
    /// headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) name the client. From any other
    /// peer those headers are ignored: the client is the TCP peer. Default: none.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.settings.trusted_proxies = TrustedProxies::new(proxies);
        self
    }

    /// Lets browsers on these origins call the server (see [`Cors`]): preflights are answered,
    /// responses carry the CORS headers, and a browser's WebSocket must come from one of them
    /// (or the server's own origin). CORS is the outermost layer, so layers added with
    /// [`layer`](Self::layer) never see a preflight. Default: none (same origin only).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.settings.cors = Some(cors);
        self
    }

    /// The title, version and `servers` of the OpenRPC document `rpc.discover` answers
    /// (default: the trait names, `0.0.0`, no servers: the document `accord-bindings` writes
    /// with its default options).
    ///
    /// ```
    /// # fn run(builder: accord_server::ServerBuilder) -> accord_server::ServerBuilder {
    /// use accord::openrpc::Info;
    ///
    /// builder.openrpc(Info::default().version("1.4.0").server("production", "https://api.example.com/rpc"))
    /// # }
    /// ```
    pub fn openrpc(mut self, info: accord::openrpc::Info) -> Self {
        self.settings.discovery = Some(info);
        self
    }

    /// Turns `rpc.discover` off: it then answers `METHOD_NOT_FOUND` like any unknown method.
    pub fn without_discovery(mut self) -> Self {
        self.settings.discovery = None;
        self
    }

    /// The server's metrics registry, to add the app's own series before serving.
    pub fn metrics(&self) -> &Metrics {
        &self.settings.metrics
    }

    /// Wraps the HTTP service in a tower layer (compression, tracing, timeouts, your own). The
    /// first layer added is the outermost, as with tower's `ServiceBuilder`. Layers see whole
    /// HTTP requests (a WebSocket is one request, its upgrade): per-call concerns (a batch
    /// entry, a WebSocket call) belong to the call pipeline, which runs inside them.
    ///
    /// A layer's error is answered as a JSON-RPC error body: tower's `load_shed` as
    /// `OVERLOADED` (503), tower's `timeout` as `TIMEOUT` (504), anything else as `INTERNAL`
    /// (500, logged).
    ///
    /// ```no_run
    /// # async fn run(builder: accord_server::ServerBuilder) -> Result<(), accord_server::ServeError> {
    /// use tower_http::compression::CompressionLayer;
    ///
    /// let server = builder.layer(CompressionLayer::new()).serve("127.0.0.1:3000").await?;
    /// # Ok(()) }
    /// ```
    pub fn layer<N>(self, layer: N) -> ServerBuilder<Stack<N, L>, C> {
        ServerBuilder { settings: self.settings, layer: Stack::new(layer, self.layer), call_layer: self.call_layer }
    }

    /// Adds a per-call layer: a [`tower::Layer`] whose service is a [`CallService`]. Every call
    /// goes through it, alone over HTTP, inside a batch and on a WebSocket, after
    /// authentication, rate limits and admission and inside the deadline and panic guard; the
    /// first added is the outermost. See [`crate::call`] for the whole order and an example.
    pub fn call_layer<N>(self, layer: N) -> ServerBuilder<L, Stack<N, C>> {
        ServerBuilder { settings: self.settings, layer: self.layer, call_layer: Stack::new(layer, self.call_layer) }
    }

    /// Binds `address` and starts serving in the background, through the layers.
    pub async fn serve<S, B>(self, address: impl ToSocketAddrs) -> Result<RunningServer, ServeError>
    where
        L: Layer<AccordService, Service = S>,
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        C: Layer<Endpoint>,
        C::Service: CallService,
    {
        let listener = TcpListener::bind(address).await.map_err(ServeError::Bind)?;
        let local_addr = listener.local_addr().map_err(ServeError::Bind)?;
        let ServerBuilder { settings, layer, call_layer } = self;
        let limits = settings.limits.clone();
        let metrics = settings.metrics.clone();
        let server = settings.build(call_layer.layer(Endpoint)).await?;
        let connections = Connections::new(
            limits.max_connections,
            limits.header_read_timeout,
            limits.keep_alive_timeout,
            metrics.gauge("accord_connections_open", &[]),
        );
        tokio::spawn(connections.clone().sweep(server.finished.clone()));
        let rejected = metrics.counter("accord_connections_rejected_total", &[]);
        let shared = server.shared.clone();
        // CORS outside every other layer, so theirs never see a preflight.
        let service = layer.layer(AccordService::new(shared.clone(), Routes::All, false));
        match shared.cors.as_ref().map(Cors::layer) {
            Some(cors) => {
                // tower-http's CORS answers preflights with an empty body of the inner
                // service's type, so that body must have an empty value: a boxed one does.
                let boxed = service.map_response(|response: Response<B>| response.map(body::boxed));
                let service = cors.layer(boxed);
                server.tasks.spawn(crate::listener::accept(listener, shared, connections, rejected, service))
            }
            None => server.tasks.spawn(crate::listener::accept(listener, shared, connections, rejected, service)),
        };
        Ok(RunningServer::new(local_addr, server))
    }
}

impl<C> ServerBuilder<Identity, C>
where
    C: Layer<Endpoint>,
    C::Service: CallService,
{
    /// Builds the server without listening, to mount it in another app through
    /// [`Server::service`] or [`Server::rpc_service`]. Layers belong to that app then, so
    /// `build` is only there before any [`layer`](Self::layer) call.
    ///
    /// The host app's HTTP server owns the connections: Accord's connection limit and its
    /// header and keep-alive timeouts do not apply. Everything else does: body size and read
    /// time limits, WebSocket limits, CORS, and the whole call pipeline.
    pub async fn build(self) -> Result<Server, ServeError> {
        self.settings.build(self.call_layer.layer(Endpoint)).await
    }

    /// The pipeline and message limits alone, for [`crate::MessageHarness`] (fuzzing).
    pub(crate) async fn pipeline_and_limits(&self) -> Result<(Pipeline, MessageLimits), ServeError> {
        let pipeline = self.settings.pipeline(self.call_layer.layer(Endpoint)).await?;
        Ok((pipeline, self.settings.message_limits()))
    }
}

impl Settings {
    async fn build<S: CallService>(self, app: S) -> Result<Server, ServeError> {
        let pipeline = self.pipeline(app).await?;
        if let Some(files) = &self.static_files {
            tracing::info!(dir = %files.dir().display(), "serving static files at /");
        }
        let (draining_tx, draining) = watch::channel(false);
        let message_limits = self.message_limits();
        let limits = self.limits;
        let health = Health::new(self.readiness);
        let tasks = TaskTracker::new();
        let abandon = CancellationToken::new();
        let shared = Arc::new(Shared {
            pipeline,
            limits,
            message_limits,
            authenticator: self.authenticator,
            trusted_proxies: self.trusted_proxies,
            health: health.clone(),
            metrics: self.metrics.clone(),
            static_files: self.static_files,
            cors: self.cors,
            draining,
            abandon: abandon.clone(),
            tasks: tasks.clone(),
        });
        let finished = CancellationToken::new();
        tokio::spawn(upkeep(self.metrics.clone(), finished.clone()));
        Ok(Server {
            shared,
            draining: draining_tx,
            health,
            shutdown_grace: self.shutdown_grace,
            metrics: self.metrics,
            tasks,
            abandon,
            finished,
        })
    }

    fn message_limits(&self) -> MessageLimits {
        MessageLimits {
            max_batch_len: self.limits.max_batch_len as usize,
            batch_concurrency: self.limits.batch_concurrency,
            max_response_bytes: self.limits.max_response_body_bytes as usize,
        }
    }

    /// Resolves every procedure's policy into the pipeline, around `app` (the app's per-call
    /// layers around the endpoint).
    async fn pipeline<S: CallService>(&self, app: S) -> Result<Pipeline, ServeError> {
        let mut procedures = HashMap::new();
        let mut unsubscribe = HashSet::new();
        let mut rules = Vec::new();
        if let Some(limit) = self.global_rate_limit {
            rules.push((GLOBAL_RULE.to_owned(), limit));
        }
        let discovery = match &self.discovery {
            Some(info) => {
                let apis: Vec<Description> = self.apis.iter().map(|api| api.description().clone()).collect();
                Some(crate::discover::handler(&apis, info)?)
            }
            None => None,
        };
        let discover = crate::discover::description();
        let builtin = discovery.as_ref().map(|handler| (&discover, handler));
        for (description, handler) in self.apis.iter().flat_map(Handlers::iter).chain(builtin) {
            let policy = self.policies.get(description.name).cloned().unwrap_or_default();
            if let Some(limit) = policy.rate_limit {
                rules.push((description.name.to_owned(), limit));
            }
            if let Handler::Subscribe(_) = handler {
                let name = description.unsubscribe.ok_or(ServeError::MissingUnsubscribe(description.name))?;
                unsubscribe.insert(name);
            }
            if procedures.contains_key(description.name) {
                return Err(ServeError::Register { name: description.name });
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
        if let Some(name) = self.policies.keys().find(|name| !procedures.contains_key(*name)) {
            return Err(ServeError::UnknownProcedure((*name).to_owned()));
        }
        let rate_limiter = if rules.is_empty() {
            None
        } else {
            let backend = self.rate_limit_backend.clone();
            Some(RateLimiter::new(backend, rules).await?)
        };
        let stack = crate::call::stack(
            app,
            rate_limiter,
            self.global_rate_limit.map(|limit| limit.key()),
            Arc::new(Semaphore::new(self.limits.max_in_flight)),
            self.access_log.clone(),
        );
        Ok(Pipeline { procedures, unsubscribe, stack })
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
