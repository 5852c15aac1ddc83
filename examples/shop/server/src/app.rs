//! Putting the shop together: database, services, middleware policies, background jobs, and
//! the server on one port (API at `/rpc`, the web page at `/`).

use std::time::Duration;

use accord_server::topics::{TopicError, Topics};
use accord_server::{Policy, RateLimit, RunningServer, ServeError, Server};
use shop_api::{AuthApi, OrdersApi, ProductsApi};
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::{Database, DbError};
use crate::order_events::OrderEvents;
use crate::orders::OrderBook;
use crate::passwords::Passwords;
use crate::seed::{self, SeedSize};
use crate::sessions::{SessionAuthenticator, SessionStore};

/// Why the shop could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The password-hashing threads could not be started.
    #[error("starting the password-hashing threads: {0}")]
    Threads(std::io::Error),
    /// The event topics could not be set up (an invalid `REDIS_URL`).
    #[error("live events: {0}")]
    Topics(#[from] TopicError),
}

/// A running shop.
#[derive(Debug)]
pub struct Shop {
    pub server: RunningServer,
    pub db: Database,
    /// The services, for in-process calls (tests call them through the same traits).
    pub accounts: Accounts,
    pub catalog: Catalog,
    pub orders: OrderBook,
    jobs: Vec<JoinHandle<()>>,
}

impl Shop {
    /// Connects, migrates, seeds an empty database with `seed` (if given), and serves.
    pub async fn start(config: &Config, seed_size: Option<SeedSize>) -> Result<Self, StartError> {
        let builder = Server::builder();
        let db = Database::connect(config, builder.metrics()).await?;
        if let Some(size) = seed_size
            && seed::is_empty(&db).await?
        {
            tracing::info!(?size, "seeding the empty database with demo data");
            seed::seed(&db, size).await?;
        }
        let sessions = SessionStore::new(db.clone(), config.session_ttl);
        let topics = match &config.redis_url {
            Some(url) => Topics::redis_with_prefix(url, &config.redis_prefix)?,
            None => Topics::in_process(),
        }
        .with_retention(config.events_retention);
        let events = OrderEvents::new(&topics)?;
        let passwords = Passwords::start(&config.hashing, builder.metrics()).map_err(StartError::Threads)?;
        let accounts = Accounts::new(db.clone(), sessions.clone(), passwords);
        let catalog = Catalog::new(db.clone(), config.product_cache_ttl, &topics)?;
        let orders = OrderBook::new(db.clone(), events.clone(), catalog.clone());

        let login_limit = RateLimit::per_minute(config.login_rate_per_minute);
        let ready_db = db.clone();
        let mut builder = builder
            .mount(AuthApi::handlers(accounts.clone()))?
            .mount(ProductsApi::handlers(catalog.clone()))?
            .mount(OrdersApi::handlers(orders.clone()))?
            .authenticator(SessionAuthenticator(sessions))
            .procedure(AuthApi::LOGIN, Policy::new().rate_limit(login_limit).timeout(Duration::from_secs(10)))
            .procedure(AuthApi::REGISTER, Policy::new().rate_limit(login_limit).timeout(Duration::from_secs(10)))
            .shutdown_grace(config.shutdown_grace)
            .readiness_check("database", move || {
                let db = ready_db.clone();
                async move { db.ping().await.map_err(|e| e.to_string()) }
            });
        if let Some(cors) = &config.cors {
            builder = builder.cors(cors.clone());
        }
        if config.web_dir.join("index.html").is_file() {
            builder = builder.static_dir(&config.web_dir);
        } else {
            tracing::warn!(dir = %config.web_dir.display(), "no built web page there; serving the API only");
        }
        let server = builder.serve(("127.0.0.1", config.port)).await?;

        let fulfilment = tokio::spawn(crate::fulfilment::run(db.clone(), events, config.fulfilment_step));
        let pool_stats = tokio::spawn({
            let db = db.clone();
            async move {
                let mut every = tokio::time::interval(Duration::from_secs(1));
                loop {
                    every.tick().await;
                    db.refresh_metrics();
                }
            }
        });
        let invalidations = tokio::spawn(catalog.clone().follow_invalidations());
        Ok(Self { server, db, accounts, catalog, orders, jobs: vec![fulfilment, pool_stats, invalidations] })
    }

    /// Drains the server (see `accord_server::RunningServer::shutdown`), stops the background
    /// jobs and closes the pools, all within the grace period plus [`POOL_CLOSE_TIMEOUT`].
    pub async fn shutdown(self) -> Stopped {
        let Self { server, db, jobs, .. } = self;
        let finished = server.shutdown().await;
        stop(jobs, &db, finished).await
    }

    /// [`Shop::shutdown`] on SIGINT or SIGTERM, listened for from this call on (so call it
    /// before announcing readiness).
    pub fn run_until_signal(self) -> impl Future<Output = Stopped> + Send + 'static {
        let Self { server, db, jobs, .. } = self;
        let serving = server.run_until_signal();
        async move {
            let finished = serving.await;
            stop(jobs, &db, finished).await
        }
    }
}

/// The longest closing the pools may take after the grace period. Closing waits for every
/// checked-out connection to come back, and a call abandoned at the end of the grace period may
/// hold one for as long as it is stuck (a lock wait, a dead network): past this, the shop exits
/// without waiting for them (the database rolls back their transactions when the connections
/// drop).
pub const POOL_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// How a shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Every call finished within the grace period and the pools closed.
    Drained,
    /// Calls were still running after the grace period, or held connections past
    /// [`POOL_CLOSE_TIMEOUT`]; they were abandoned.
    Abandoned,
}

async fn stop(jobs: Vec<JoinHandle<()>>, db: &Database, finished: bool) -> Stopped {
    for job in jobs {
        job.abort();
    }
    let closed = tokio::time::timeout(POOL_CLOSE_TIMEOUT, db.close()).await.is_ok();
    if !closed {
        tracing::warn!(timeout = ?POOL_CLOSE_TIMEOUT, "database connections still in use; not waiting for them");
    }
    if finished && closed { Stopped::Drained } else { Stopped::Abandoned }
}
