//! Running behind a transaction-pooling PgBouncer (`DB_PGBOUNCER=1`).
//!
//! In `pool_mode = transaction` PgBouncer lends a server connection for one transaction and
//! may hand the next round trip to another. Three things sqlx does by default then break
//! (PgBouncer 1.18, Debian bookworm's, does not track prepared statements; 1.21 can):
//!
//! - **Named, cached statements** (`sqlx_s_1`, ...) live on one backend: the next use may land
//!   on another ("does not exist") or clash with another client's ("already exists"). So every
//!   statement is unnamed (`persistent(false)`), re-parsed each time.
//! - **Prepare, then bind and execute, in two round trips** (sqlx asks the server for the
//!   statement's parameter and column types first): between the two `Sync`s PgBouncer may
//!   switch backends, and the unnamed statement is left behind. Inside an explicit transaction
//!   it cannot, so a statement outside one gets a transaction of its own.
//! - **Startup parameters** (`options=-c statement_timeout=...`, `search_path`) are refused or,
//!   with `ignore_startup_parameters = options`, silently dropped; session `SET`s would leak to
//!   other clients. So both are `SET LOCAL` in the statement that opens every transaction.
//!
//! Migrations run through the pooler too, in one transaction: they take their advisory lock
//! and prepare named statements, all on the one backend that transaction pins; named statements
//! are deallocated before (another client may have left some) and after (so none is left).

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use super::DbError;
use crate::config::PoolConfig;

/// The statement that opens every transaction: `BEGIN`, then the settings other connections
/// set at startup, made local to the transaction. One round trip (a simple multi-statement query).
pub(super) fn begin_statement(config: &PoolConfig, schema: Option<&str>) -> String {
    let mut begin = format!("BEGIN; SET LOCAL statement_timeout = {}", config.statement_timeout.as_millis());
    if let Some(schema) = schema {
        begin.push_str(&format!("; SET LOCAL search_path = \"{}\"", schema.replace('"', "\"\"")));
    }
    begin
}

/// Creates the schema (if any) and runs `migrator` through the pooler, in one transaction.
pub(super) async fn migrate(
    url: &str,
    begin: &str,
    schema: Option<&str>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), DbError> {
    let mut conn = PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?;
    let outcome = migrate_on(&mut conn, begin, schema, migrator).await;
    match outcome {
        Ok(()) => conn.close().await?,
        // Closing mid-transaction makes PgBouncer drop that backend rather than reuse it, so a
        // failed run's named statements and advisory lock go with it.
        Err(_) => {
            let _ = conn.close_hard().await;
        }
    }
    outcome
}

async fn migrate_on(
    conn: &mut PgConnection,
    begin: &str,
    schema: Option<&str>,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), DbError> {
    if let Some(schema) = schema {
        // Before the transaction's `SET LOCAL search_path` points at it (a simple query: no
        // statement is prepared).
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", schema.replace('"', "\"\""));
        sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut *conn).await?;
    }
    let mut tx = conn.begin_with(AssertSqlSafe(begin.to_owned())).await?;
    // A client that prepared named statements through the pooler may have left some on this
    // backend (nobody can use them any more); the migrator's own names would clash with them.
    sqlx::raw_sql("DEALLOCATE ALL").execute(&mut *tx).await?;
    migrator.run(&mut *tx).await?;
    sqlx::raw_sql("DEALLOCATE ALL").execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
