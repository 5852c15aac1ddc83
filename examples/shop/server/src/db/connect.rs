//! Opening the pools: options per database, then migrations.
//!
//! SQLite: WAL journal (readers never wait for the writer) and a busy timeout; the write pool
//! has one connection, since SQLite runs one writer at a time anyway and a single connection
//! turns lock contention into an orderly queue; the read pool opens the same file read-only.
//! PostgreSQL: every connection sets `statement_timeout` as a startup parameter, so no query
//! can hold a connection forever; `DATABASE_SCHEMA` puts the tables in a schema of their own.
//! Behind a transaction-pooling PgBouncer (`DB_PGBOUNCER=1`) both are set per transaction
//! instead (`pooler.rs`).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{DbError, Pool};
use crate::config::{Config, PoolConfig};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The write and read pools, migrated.
pub(super) async fn pools(config: &Config) -> Result<(Pool, Pool), DbError> {
    let url = config.database_url.as_str();
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(config.pool.busy_timeout)
            .foreign_keys(true);
        let write = sqlite_pool(&config.pool, 1).connect_with(options.clone()).await?;
        SQLITE_MIGRATIONS.run(&write).await?;
        let read = match &config.read_database_url {
            Some(read_url) => SqliteConnectOptions::from_str(read_url)?,
            None => options.create_if_missing(false).read_only(true),
        };
        let read = sqlite_pool(&config.pool, config.pool.max_connections).connect_with(read).await?;
        Ok((Pool::Sqlite(write), Pool::Sqlite(read)))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let schema = config.database_schema.as_deref();
        if config.pool.pgbouncer {
            let begin = super::pooler::begin_statement(&config.pool, schema);
            super::pooler::migrate(url, &begin, schema, &POSTGRES_MIGRATIONS).await?;
            let write = pg_pool(&config.pool).connect_with(PgConnectOptions::from_str(url)?).await?;
            let read = match &config.read_database_url {
                Some(read_url) => pg_pool(&config.pool).connect_with(PgConnectOptions::from_str(read_url)?).await?,
                None => write.clone(),
            };
            return Ok((Pool::Postgres(write), Pool::Postgres(read)));
        }
        let write_options = pg_options(url, &config.pool, schema)?;
        let write = pg_pool(&config.pool).connect_with(write_options).await?;
        if let Some(schema) = schema {
            let create = format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", schema.replace('"', "\"\""));
            sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&write).await?;
        }
        POSTGRES_MIGRATIONS.run(&write).await?;
        let read = match &config.read_database_url {
            Some(read_url) => pg_pool(&config.pool).connect_with(pg_options(read_url, &config.pool, schema)?).await?,
            None => write.clone(),
        };
        Ok((Pool::Postgres(write), Pool::Postgres(read)))
    } else {
        Err(DbError::UnsupportedUrl(url.to_owned()))
    }
}

fn sqlite_pool(config: &PoolConfig, max: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
}

fn pg_pool(config: &PoolConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
}

fn pg_options(url: &str, config: &PoolConfig, schema: Option<&str>) -> Result<PgConnectOptions, DbError> {
    let statement_timeout = format!("{}ms", config.statement_timeout.as_millis());
    let mut options = PgConnectOptions::from_str(url)?.options([("statement_timeout", statement_timeout)]);
    if let Some(schema) = schema {
        options = options.options([("search_path", schema)]);
    }
    Ok(options)
}
