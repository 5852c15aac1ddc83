//! Test support: a shop on a fresh database of either kind, served on 127.0.0.1:0.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a schema of its own in the database
//! `DATABASE_URL` names (dropped afterwards), so test runs never see each other's rows. Without
//! a PostgreSQL `DATABASE_URL` the PostgreSQL variants print that they skipped.

#![allow(dead_code)] // each test binary uses part of this

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use accord::client::{HttpTransport, TransportOptions, WsTransport};
use accord::{Cx, Identity, Kind};
use shop::seed::SeedSize;
use shop::{Config, Shop};
use shop_api::{Auth, AuthClient, Credentials};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A small data set: fast to seed, still several pages of everything.
pub const SMALL: SeedSize = SeedSize { users: 5, products: 300, orders: 400 };

/// A running shop and what it runs on.
pub struct TestShop {
    pub shop: Option<Shop>,
    pub config: Config,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

impl TestShop {
    pub fn shop(&self) -> &Shop {
        self.shop.as_ref().expect("running")
    }

    pub fn url(&self) -> String {
        self.shop().server.http_url()
    }

    pub fn ws_url(&self) -> String {
        self.shop().server.ws_url()
    }

    /// Stops the server (the database stays, for restart tests).
    pub async fn stop(&mut self) {
        if let Some(shop) = self.shop.take() {
            shop.shutdown().await;
        }
    }

    /// Starts a new server on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.shop = Some(Shop::start(&self.config, None).await.expect("restart"));
    }

    /// Stops the server and drops the PostgreSQL schema.
    pub async fn finish(mut self) {
        self.stop().await;
        if let Some((url, schema)) = self.schema.take() {
            use sqlx::Connection;
            let url = direct_url().unwrap_or(url);
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("cleanup connection");
            let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await.expect("drop schema");
        }
    }
}

fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The PostgreSQL URL to test against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("DATABASE_URL").ok().filter(|url| url.starts_with("postgres"))
}

/// PostgreSQL itself, for a test's own connections (holding locks, checking rows, cleaning up):
/// `DATABASE_DIRECT_URL` when `DATABASE_URL` names a pooler (scripts/with-pgbouncer sets both),
/// else `DATABASE_URL`. A test's persistent statements must not leak into the shop's pool.
pub fn direct_url() -> Option<String> {
    std::env::var("DATABASE_DIRECT_URL").ok().filter(|url| url.starts_with("postgres")).or_else(postgres_url)
}

/// A shop on a fresh `backend` database seeded with `seed`; `None` (after saying so) when
/// PostgreSQL is asked for and not configured.
pub async fn start(backend: Backend, seed: Option<SeedSize>, tweak: impl FnOnce(&mut Config)) -> Option<TestShop> {
    let mut config = Config { port: 0, fulfilment_step: Duration::from_secs(3600), ..Config::default() };
    config.web_dir = "/nonexistent".into();
    let (dir, schema) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            config.database_url = format!("sqlite://{}", dir.path().join("shop.db").display());
            (Some(dir), None)
        }
        Backend::Postgres => {
            let Some(url) = postgres_url() else {
                eprintln!("skipped: DATABASE_URL does not point at PostgreSQL");
                return None;
            };
            let schema = unique("shop_test");
            config.database_url = url.clone();
            config.database_schema = Some(schema.clone());
            // DATABASE_URL may name a transaction-pooling PgBouncer (scripts/with-pgbouncer).
            config.pool.pgbouncer = std::env::var("DB_PGBOUNCER").is_ok_and(|v| v == "1");
            (None, Some((url, schema)))
        }
    };
    tweak(&mut config);
    let shop = Shop::start(&config, seed).await.expect("the shop starts");
    Some(TestShop { shop: Some(shop), config, _dir: dir, schema })
}

/// Signs in over HTTP; returns the token.
pub async fn login(url: &str, email: &str) -> String {
    let auth = AuthClient::new(HttpTransport::new(url).expect("transport"));
    let credentials = Credentials { email: email.into(), password: shop::seed::DEMO_PASSWORD.into() };
    auth.login(&Cx::new(), credentials).await.expect("login").token
}

/// An HTTP transport that sends `token`.
pub fn http_as(url: &str, token: &str) -> HttpTransport {
    let options = TransportOptions::default().header("authorization", &format!("Bearer {token}")).expect("header");
    HttpTransport::with_options(url, options).expect("transport")
}

/// A WebSocket transport that sends `token` with the handshake.
pub async fn ws_as(url: &str, token: &str) -> WsTransport {
    let options = TransportOptions::default().header("authorization", &format!("Bearer {token}")).expect("header");
    WsTransport::connect_with_options(url, options).await.expect("websocket")
}

/// A server-side context for an in-process call, as the server would build it.
pub fn cx_as(user_id: i64, kind: Kind) -> Cx {
    Cx::new().with_extension(Identity::new(user_id.to_string())).with_extension(kind)
}

/// Runs an async test body on both databases: `both!(name)` makes `name::sqlite` and
/// `name::postgres` from `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}
