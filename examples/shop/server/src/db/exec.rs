//! Running sea-query statements on either database, counted.
//!
//! [`Conn`] (a pooled connection) and [`Tx`] (a transaction) both implement [`Queries`], so a
//! helper that takes `&mut impl Queries` works inside and outside a transaction.
//!
//! Behind a transaction-pooling PgBouncer (`pooler.rs`) every PostgreSQL statement is unnamed
//! (never cached), and a statement on a bare [`Conn`] runs in a transaction of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Connection, FromRow, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};
use tracing::Instrument;

use super::DbError;

/// A row type that decodes from both databases (`#[derive(sqlx::FromRow)]` gives this).
pub trait Record: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}
impl<T> Record for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

/// A borrowed connection of either database, and the query counter.
pub struct Exec<'c> {
    conn: ExecConn<'c>,
    queries: &'c AtomicU64,
    pooled: Pooled<'c>,
}

/// What a transaction pooler between us and PostgreSQL asks of a statement.
#[derive(Clone, Copy)]
enum Pooled<'c> {
    /// No pooler: named statements, cached per connection.
    No,
    /// Inside a transaction the pooler keeps us on one backend: unnamed statements.
    InTransaction,
    /// Outside one: an unnamed statement in a transaction opened by this statement.
    Wrap(&'c str),
}

enum ExecConn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Builds the statement for the connection's database and runs `$body` inside a client span
/// with the database semantic conventions: `db.system`, `db.operation.name` and `db.query.text`
/// (the SQL with its placeholders: values are never recorded). `$persistent` says whether the
/// statement may be prepared once and cached (not behind a transaction pooler).
macro_rules! on_both {
    ($exec:expr, $statement:expr, |$conn:ident, $sql:ident, $values:ident, $persistent:ident| $body:expr) => {{
        let exec = $exec;
        exec.queries.fetch_add(1, Ordering::Relaxed);
        match exec.conn {
            ExecConn::Sqlite($conn) => {
                let ($sql, $values) = $statement.build_sqlx(SqliteQueryBuilder);
                let $persistent = true;
                let span = query_span("sqlite", &$sql);
                async { Ok::<_, DbError>($body) }.instrument(span).await?
            }
            ExecConn::Postgres(conn) => {
                let ($sql, $values) = $statement.build_sqlx(PostgresQueryBuilder);
                let span = query_span("postgresql", &$sql);
                let $persistent = matches!(exec.pooled, Pooled::No);
                match exec.pooled {
                    Pooled::Wrap(begin) => {
                        async {
                            // The pooler may hand each round trip to another backend unless a
                            // transaction is open: prepare, bind and execute inside one.
                            let mut tx = conn.begin_with(AssertSqlSafe(begin.to_owned())).await?;
                            let out = {
                                let $conn = &mut *tx;
                                $body
                            };
                            tx.commit().await?;
                            Ok::<_, DbError>(out)
                        }
                        .instrument(span)
                        .await?
                    }
                    Pooled::No | Pooled::InTransaction => {
                        let $conn = conn;
                        async { Ok::<_, DbError>($body) }.instrument(span).await?
                    }
                }
            }
        }
    }};
}

/// The span of one statement, named by its operation (`SELECT`, `INSERT`, ...).
fn query_span(system: &'static str, sql: &str) -> tracing::Span {
    let operation = sql.split_whitespace().next().unwrap_or("query");
    tracing::info_span!(
        "db.query",
        otel.name = operation,
        otel.kind = "client",
        db.system = system,
        db.operation.name = operation,
        db.query.text = sql,
    )
}

/// Statement execution, shared by connections and transactions.
#[allow(async_fn_in_trait)] // used with concrete types only, whose futures are `Send`
pub trait Queries {
    /// The connection to run on.
    fn exec(&mut self) -> Exec<'_>;

    /// Every row.
    async fn fetch_all<T: Record>(&mut self, statement: &impl SqlxBinder) -> Result<Vec<T>, DbError> {
        Ok(on_both!(self.exec(), statement, |conn, sql, values, persistent| {
            sqlx::query_as_with(AssertSqlSafe(sql), values).persistent(persistent).fetch_all(&mut *conn).await?
        }))
    }

    /// The first row, if any.
    async fn fetch_optional<T: Record>(&mut self, statement: &impl SqlxBinder) -> Result<Option<T>, DbError> {
        Ok(on_both!(self.exec(), statement, |conn, sql, values, persistent| {
            sqlx::query_as_with(AssertSqlSafe(sql), values).persistent(persistent).fetch_optional(&mut *conn).await?
        }))
    }

    /// Exactly one row.
    async fn fetch_one<T: Record>(&mut self, statement: &impl SqlxBinder) -> Result<T, DbError> {
        Ok(on_both!(self.exec(), statement, |conn, sql, values, persistent| {
            sqlx::query_as_with(AssertSqlSafe(sql), values).persistent(persistent).fetch_one(&mut *conn).await?
        }))
    }

    /// Runs a statement; returns the number of rows it changed.
    async fn execute(&mut self, statement: &impl SqlxBinder) -> Result<u64, DbError> {
        Ok(on_both!(self.exec(), statement, |conn, sql, values, persistent| {
            sqlx::query_with(AssertSqlSafe(sql), values)
                .persistent(persistent)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        }))
    }
}

/// A pooled connection; back to the pool when dropped.
pub enum Conn {
    #[doc(hidden)]
    Sqlite(PoolConnection<Sqlite>, Arc<AtomicU64>),
    #[doc(hidden)]
    Postgres(PoolConnection<Postgres>, Arc<AtomicU64>, Option<Arc<str>>),
}

impl Conn {
    pub(super) fn sqlite(conn: PoolConnection<Sqlite>, queries: Arc<AtomicU64>) -> Self {
        Conn::Sqlite(conn, queries)
    }

    /// `pooled`: behind a transaction pooler, the statement that opens each statement's transaction.
    pub(super) fn postgres(conn: PoolConnection<Postgres>, queries: Arc<AtomicU64>, pooled: Option<Arc<str>>) -> Self {
        Conn::Postgres(conn, queries, pooled)
    }

    /// A round trip to the database.
    pub async fn ping(&mut self) -> Result<(), DbError> {
        match self {
            Conn::Sqlite(conn, _) => conn.ping().await?,
            Conn::Postgres(conn, _, _) => conn.ping().await?,
        }
        Ok(())
    }
}

impl Queries for Conn {
    fn exec(&mut self) -> Exec<'_> {
        match self {
            Conn::Sqlite(conn, queries) => Exec { conn: ExecConn::Sqlite(conn), queries, pooled: Pooled::No },
            Conn::Postgres(conn, queries, pooled) => {
                let pooled = pooled.as_deref().map_or(Pooled::No, Pooled::Wrap);
                Exec { conn: ExecConn::Postgres(conn), queries, pooled }
            }
        }
    }
}

/// A transaction; rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    #[doc(hidden)]
    Sqlite(Transaction<'static, Sqlite>, Arc<AtomicU64>),
    #[doc(hidden)]
    Postgres(Transaction<'static, Postgres>, Arc<AtomicU64>, bool),
}

impl Tx {
    pub(super) fn sqlite(tx: Transaction<'static, Sqlite>, queries: Arc<AtomicU64>) -> Self {
        Tx::Sqlite(tx, queries)
    }

    /// `pooled`: behind a transaction pooler (statements are then never cached).
    pub(super) fn postgres(tx: Transaction<'static, Postgres>, queries: Arc<AtomicU64>, pooled: bool) -> Self {
        Tx::Postgres(tx, queries, pooled)
    }

    /// Makes the changes permanent.
    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(tx, _) => tx.commit().await?,
            Tx::Postgres(tx, _, _) => tx.commit().await?,
        }
        Ok(())
    }
}

impl Queries for Tx {
    fn exec(&mut self) -> Exec<'_> {
        match self {
            Tx::Sqlite(tx, queries) => Exec { conn: ExecConn::Sqlite(tx), queries, pooled: Pooled::No },
            Tx::Postgres(tx, queries, pooled) => {
                let pooled = if *pooled { Pooled::InTransaction } else { Pooled::No };
                Exec { conn: ExecConn::Postgres(tx), queries, pooled }
            }
        }
    }
}
