//! The shop's configuration: every setting from the environment, with a documented default.
//!
//! | variable | default | |
//! |---|---|---|
//! | `PORT` | `3000` | port on 127.0.0.1 (`0` picks a free one) |
//! | `DATABASE_URL` | `sqlite://shop.db` | `sqlite://PATH` (created and migrated) or `postgres://...` |
//! | `DATABASE_SCHEMA` | none | PostgreSQL only: keep the tables in this schema (created if missing) |
//! | `DATABASE_READ_URL` | the write database | a replica for queries (`products.list`, ...) |
//! | `DB_MAX_CONNECTIONS` | `10` | per pool |
//! | `DB_ACQUIRE_TIMEOUT_MS` | `3000` | waiting for a pooled connection longer answers `UNAVAILABLE` |
//! | `DB_IDLE_TIMEOUT_MS` | `600000` | idle connections above the minimum close after this |
//! | `DB_STATEMENT_TIMEOUT_MS` | `5000` | PostgreSQL `statement_timeout`, set on every connection |
//! | `DB_PGBOUNCER` | `0` | `1`: PostgreSQL is behind a transaction-pooling PgBouncer (unnamed statements, one transaction per statement, timeouts set per transaction; see `db/pooler.rs`) |
//! | `DB_BUSY_TIMEOUT_MS` | `5000` | SQLite `busy_timeout` (WAL mode is always on) |
//! | `SHOP_WEB_DIR` | `examples/shop/web/dist` | the built web page, served at `/` |
//! | `SHOP_FULFILMENT_STEP_MS` | `3000` | how long an order stays in each status before moving on |
//! | `SHOP_PRODUCT_CACHE_TTL_MS` | `30000` | `products.get` cache lifetime |
//! | `SHOP_SESSION_TTL_HOURS` | `168` | how long a login token works |
//! | `SHOP_LOGIN_RATE_PER_MINUTE` | `10` | `auth.login` calls per client address per minute |
//! | `SHOP_SHUTDOWN_GRACE_MS` | `10000` | on SIGTERM, how long running calls may finish; then they are abandoned |
//! | `SHOP_HASH_THREADS` | CPUs | password hashes running at once (each holds 19 MiB) |
//! | `SHOP_HASH_QUEUE` | `256` | logins that may wait for a hashing thread; more answer `OVERLOADED` at once |
//! | `SHOP_HASH_MAX_WAIT_MS` | `2000` | the longest a login waits for a hashing thread before `OVERLOADED` |
//! | `CORS_ORIGINS` | none | comma-separated origins whose pages may call the API (e.g. `http://localhost:5173`) |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` | none | export traces (calls and SQL) to this OTLP/HTTP collector; the other `OTEL_*` variables apply |
//! | `REDIS_URL` | none | share order events and product-cache invalidations with every instance through Redis Streams (else in process) |
//! | `SHOP_REDIS_PREFIX` | `accord:topic:` | the Redis keys' prefix (instances of one shop share it) |
//! | `SHOP_EVENTS_MAX_AGE_MS` | `300000` | how long order events are kept for subscribers to resume from |
//! | `SHOP_EVENTS_MAX` | `10000` | how many order events are kept for subscribers to resume from |

use std::time::Duration;

/// A setting that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be {expected}, got {value:?}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What it should hold.
    pub expected: &'static str,
    /// What it holds.
    pub value: String,
}

/// Connection-pool settings, shared by the write and read pools.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    pub idle_timeout: Duration,
    /// PostgreSQL only.
    pub statement_timeout: Duration,
    /// SQLite only.
    pub busy_timeout: Duration,
    /// PostgreSQL only: behind a transaction-pooling PgBouncer (`DB_PGBOUNCER=1`).
    pub pgbouncer: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(600),
            statement_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
            pgbouncer: false,
        }
    }
}

/// Everything the shop server reads at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub database_url: String,
    pub read_database_url: Option<String>,
    pub database_schema: Option<String>,
    pub pool: PoolConfig,
    pub web_dir: std::path::PathBuf,
    pub fulfilment_step: Duration,
    pub product_cache_ttl: Duration,
    pub session_ttl: Duration,
    pub login_rate_per_minute: u32,
    /// Browser origins allowed to call the API (CORS); none: same origin only.
    pub cors: Option<accord_server::Cors>,
    pub shutdown_grace: Duration,
    pub hashing: HashingConfig,
    /// Where live events go: Redis Streams when set, else this process.
    pub redis_url: Option<String>,
    /// The prefix of the topics' Redis keys.
    pub redis_prefix: String,
    /// What the event topics keep for subscribers to resume from.
    pub events_retention: accord_server::topics::Retention,
}

/// The password-hashing pool (see `passwords.rs`).
#[derive(Clone, Debug)]
pub struct HashingConfig {
    pub threads: usize,
    pub queue: usize,
    pub max_wait: Duration,
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            queue: 256,
            max_wait: Duration::from_secs(2),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 3000,
            database_url: "sqlite://shop.db".into(),
            read_database_url: None,
            database_schema: None,
            pool: PoolConfig::default(),
            web_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist").into(),
            fulfilment_step: Duration::from_secs(3),
            product_cache_ttl: Duration::from_secs(30),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            login_rate_per_minute: 10,
            shutdown_grace: accord_server::DEFAULT_SHUTDOWN_GRACE,
            hashing: HashingConfig::default(),
            cors: None,
            redis_url: None,
            redis_prefix: "accord:topic:".into(),
            events_retention: accord_server::topics::Retention::default(),
        }
    }
}

impl Config {
    /// The defaults, overridden by whatever the environment sets.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`Config::from_env`] over any source of variables (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        let number = |name: &'static str| -> Result<Option<u64>, ConfigError> {
            get(name)
                .map(|value| {
                    value.trim().parse::<u64>().map_err(|_| ConfigError { name, expected: "a whole number", value })
                })
                .transpose()
        };
        let ms = |name| number(name).map(|n| n.map(Duration::from_millis));
        if let Some(port) = number("PORT")? {
            config.port = u16::try_from(port).map_err(|_| ConfigError {
                name: "PORT",
                expected: "a port number (0 to 65535)",
                value: port.to_string(),
            })?;
        }
        if let Some(url) = get("DATABASE_URL").filter(|u| !u.is_empty()) {
            config.database_url = url;
        }
        config.read_database_url = get("DATABASE_READ_URL").filter(|u| !u.is_empty());
        config.database_schema = get("DATABASE_SCHEMA").filter(|s| !s.is_empty());
        if let Some(n) = number("DB_MAX_CONNECTIONS")? {
            config.pool.max_connections = u32::try_from(n.clamp(1, 1000)).unwrap_or(1000);
        }
        if let Some(d) = ms("DB_ACQUIRE_TIMEOUT_MS")? {
            config.pool.acquire_timeout = d;
        }
        if let Some(d) = ms("DB_IDLE_TIMEOUT_MS")? {
            config.pool.idle_timeout = d;
        }
        if let Some(d) = ms("DB_STATEMENT_TIMEOUT_MS")? {
            config.pool.statement_timeout = d;
        }
        if let Some(d) = ms("DB_BUSY_TIMEOUT_MS")? {
            config.pool.busy_timeout = d;
        }
        if let Some(value) = get("DB_PGBOUNCER").filter(|v| !v.is_empty()) {
            config.pool.pgbouncer = match value.trim() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => return Err(ConfigError { name: "DB_PGBOUNCER", expected: "1 or 0", value }),
            };
        }
        if let Some(dir) = get("SHOP_WEB_DIR").filter(|d| !d.is_empty()) {
            config.web_dir = dir.into();
        }
        if let Some(d) = ms("SHOP_FULFILMENT_STEP_MS")? {
            config.fulfilment_step = d.max(Duration::from_millis(10));
        }
        if let Some(d) = ms("SHOP_PRODUCT_CACHE_TTL_MS")? {
            config.product_cache_ttl = d;
        }
        if let Some(hours) = number("SHOP_SESSION_TTL_HOURS")? {
            config.session_ttl = Duration::from_secs(hours.saturating_mul(3600));
        }
        if let Some(n) = number("SHOP_LOGIN_RATE_PER_MINUTE")? {
            config.login_rate_per_minute = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
        }
        if let Some(d) = ms("SHOP_SHUTDOWN_GRACE_MS")? {
            config.shutdown_grace = d;
        }
        if let Some(n) = number("SHOP_HASH_THREADS")? {
            config.hashing.threads = usize::try_from(n.clamp(1, 256)).unwrap_or(1);
        }
        if let Some(n) = number("SHOP_HASH_QUEUE")? {
            config.hashing.queue = usize::try_from(n.min(1_000_000)).unwrap_or(0);
        }
        if let Some(d) = ms("SHOP_HASH_MAX_WAIT_MS")? {
            config.hashing.max_wait = d;
        }
        if let Some(origins) = get("CORS_ORIGINS").filter(|o| !o.trim().is_empty()) {
            let cors = origins.parse().map_err(|_| ConfigError {
                name: "CORS_ORIGINS",
                expected: "comma-separated origins (scheme://host[:port])",
                value: origins.clone(),
            })?;
            config.cors = Some(cors);
        }
        config.redis_url = get("REDIS_URL").filter(|url| !url.is_empty());
        if let Some(prefix) = get("SHOP_REDIS_PREFIX").filter(|prefix| !prefix.is_empty()) {
            config.redis_prefix = prefix;
        }
        if let Some(d) = ms("SHOP_EVENTS_MAX_AGE_MS")? {
            config.events_retention.max_age = d;
        }
        if let Some(n) = number("SHOP_EVENTS_MAX")? {
            config.events_retention.max_events = usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_hold_without_variables() {
        let config = from(&[]).unwrap();
        assert_eq!(config.port, 3000);
        assert_eq!(config.database_url, "sqlite://shop.db");
        assert_eq!(config.pool.max_connections, 10);
    }

    #[test]
    fn variables_override_and_bad_ones_are_named() {
        let config =
            from(&[("PORT", "0"), ("DB_ACQUIRE_TIMEOUT_MS", "250"), ("DATABASE_URL", "postgres://x")]).unwrap();
        assert_eq!((config.port, config.pool.acquire_timeout), (0, Duration::from_millis(250)));
        assert_eq!(config.database_url, "postgres://x");
        let config = from(&[
            ("SHOP_HASH_THREADS", "0"),
            ("SHOP_HASH_QUEUE", "16"),
            ("SHOP_HASH_MAX_WAIT_MS", "500"),
            ("SHOP_SHUTDOWN_GRACE_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(config.hashing.threads, 1, "at least one hashing thread");
        assert_eq!((config.hashing.queue, config.hashing.max_wait), (16, Duration::from_millis(500)));
        assert_eq!(config.shutdown_grace, Duration::from_millis(1500));
        let error = from(&[("PORT", "70000")]).unwrap_err();
        assert_eq!(error.name, "PORT");
        let config = from(&[("CORS_ORIGINS", "http://localhost:5173, https://shop.example")]).unwrap();
        let origins: Vec<&str> = config.cors.as_ref().unwrap().origins().collect();
        assert_eq!(origins, ["http://localhost:5173", "https://shop.example"]);
        assert_eq!(from(&[("CORS_ORIGINS", "*")]).unwrap_err().name, "CORS_ORIGINS");
        let error = from(&[("DB_MAX_CONNECTIONS", "many")]).unwrap_err();
        assert!(error.to_string().contains("DB_MAX_CONNECTIONS must be a whole number"), "{error}");
    }
}
