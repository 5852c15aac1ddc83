//! What a database failure tells the client: "retry later" (`UNAVAILABLE`, with `retryAfterMs`),
//! "too slow" (`TIMEOUT`), or "a bug" (`INTERNAL`). Clients retry the first and report the last,
//! so an outage must never look like a bug.
//!
//! | failure | answer |
//! |---|---|
//! | no connection within the acquire timeout (saturated, or the database refuses connections) | `UNAVAILABLE` |
//! | I/O errors (connection refused, reset, closed mid-query), TLS, the pool closed (draining), SQLite's worker gone | `UNAVAILABLE` |
//! | PostgreSQL: connection exceptions (`08xxx`), insufficient resources (`53xxx`: disk full, out of memory, too many connections), shutdown (`57P01`–`57P03`), read-only (`25006`, a failover), serialization failure or deadlock (`40001`, `40P01`) | `UNAVAILABLE` |
//! | PostgreSQL `statement_timeout` (`57014`), lock timeout (`55P03`) | `TIMEOUT` |
//! | SQLite: busy or locked past the busy timeout, I/O error, disk full, cannot open, out of memory; a read-only file system (not a read-only connection) | `UNAVAILABLE` |
//! | anything else (bad SQL, decoding, constraints not handled, a corrupt file) | `INTERNAL` |
//!
//! Only the external message reaches the client; the error itself is logged here (`warn` for
//! the first two kinds, `error` for bugs).

use std::time::Duration;

use accord::{FrameworkCode, RpcError};
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

use super::DbError;

/// What a client is told to wait before retrying an unavailable database.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How a failure looks to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Unavailable,
    Timeout,
    Bug,
}

impl DbError {
    /// The error a client sees (details logged here). Takes `&self`: a failed cache load is
    /// shared by every caller that waited for it, and each must get the same answer.
    pub fn to_rpc(&self) -> RpcError {
        match self.kind() {
            Kind::Unavailable => {
                tracing::warn!(error = %self, "database unavailable");
                let message = match self {
                    DbError::Busy(_) => "the database is busy or unreachable; retry shortly",
                    _ => "the database is unavailable; retry shortly",
                };
                let retry_ms = u64::try_from(RETRY_AFTER.as_millis()).unwrap_or(1000);
                RpcError::framework(FrameworkCode::Unavailable, message).with_data_field("retryAfterMs", retry_ms)
            }
            Kind::Timeout => {
                tracing::warn!(error = %self, "database statement timed out");
                RpcError::framework(FrameworkCode::Timeout, "the query took too long")
            }
            Kind::Bug => {
                tracing::error!(error = %self, "database error");
                RpcError::internal()
            }
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            DbError::Busy(_) => Kind::Unavailable,
            DbError::Sqlx(error) => sqlx_kind(error),
            DbError::Migrate(sqlx::migrate::MigrateError::Execute(error)) => sqlx_kind(error),
            DbError::Migrate(_) | DbError::UnsupportedUrl(_) | DbError::OutOfRange(_) => Kind::Bug,
        }
    }
}

fn sqlx_kind(error: &sqlx::Error) -> Kind {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Kind::Unavailable,
        sqlx::Error::Database(error) => {
            if let Some(pg) = error.try_downcast_ref::<PgDatabaseError>() {
                postgres_kind(pg.code())
            } else if error.try_downcast_ref::<SqliteError>().is_some() {
                // The extended result code, in decimal.
                error.code().and_then(|code| code.parse().ok()).map_or(Kind::Bug, sqlite_kind)
            } else {
                Kind::Bug
            }
        }
        _ => Kind::Bug,
    }
}

/// By SQLSTATE (<https://www.postgresql.org/docs/current/errcodes-appendix.html>).
pub(crate) fn postgres_kind(sqlstate: &str) -> Kind {
    match sqlstate {
        "57014" | "55P03" => Kind::Timeout,
        "57P01" | "57P02" | "57P03" | "25006" | "40001" | "40P01" => Kind::Unavailable,
        _ if sqlstate.starts_with("08") || sqlstate.starts_with("53") => Kind::Unavailable,
        _ => Kind::Bug,
    }
}

/// By extended result code (<https://www.sqlite.org/rescode.html>): the primary code is the
/// low byte.
pub(crate) fn sqlite_kind(code: i32) -> Kind {
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const NOMEM: i32 = 7;
    const READONLY: i32 = 8;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    const CANTOPEN: i32 = 14;
    const PROTOCOL: i32 = 15;
    match code & 0xff {
        BUSY | LOCKED | NOMEM | IOERR | FULL | CANTOPEN | PROTOCOL => Kind::Unavailable,
        // Plain READONLY is a write on a read-only connection (a bug); its extended codes are
        // the file system's or the file's doing.
        READONLY if code != READONLY => Kind::Unavailable,
        _ => Kind::Bug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_codes() {
        for unavailable in ["08006", "08001", "08P01", "53300", "53100", "57P01", "57P03", "25006", "40001", "40P01"] {
            assert_eq!(postgres_kind(unavailable), Kind::Unavailable, "{unavailable}");
        }
        assert_eq!(postgres_kind("57014"), Kind::Timeout);
        assert_eq!(postgres_kind("55P03"), Kind::Timeout);
        for bug in ["42601", "42P01", "23505", "22021", "XX000", "22P02"] {
            assert_eq!(postgres_kind(bug), Kind::Bug, "{bug}");
        }
    }

    #[test]
    fn sqlite_codes() {
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_IOERR_WRITE, SQLITE_FULL,
        // SQLITE_CANTOPEN, SQLITE_READONLY_DBMOVED.
        for unavailable in [5, 517, 6, 778, 13, 14, 1032] {
            assert_eq!(sqlite_kind(unavailable), Kind::Unavailable, "{unavailable}");
        }
        // SQLITE_ERROR, SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_CONSTRAINT_UNIQUE, SQLITE_MISMATCH.
        for bug in [1, 8, 11, 2067, 20] {
            assert_eq!(sqlite_kind(bug), Kind::Bug, "{bug}");
        }
    }

    #[test]
    fn driver_failures() {
        let io = |kind| DbError::Sqlx(sqlx::Error::Io(std::io::Error::from(kind)));
        for kind in [
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::ConnectionReset,
            std::io::ErrorKind::UnexpectedEof,
            std::io::ErrorKind::BrokenPipe,
        ] {
            assert_eq!(io(kind).kind(), Kind::Unavailable, "{kind:?}");
        }
        assert_eq!(DbError::Sqlx(sqlx::Error::PoolClosed).kind(), Kind::Unavailable);
        assert_eq!(DbError::Busy(Duration::from_secs(3)).kind(), Kind::Unavailable);
        assert_eq!(DbError::Sqlx(sqlx::Error::RowNotFound).kind(), Kind::Bug);
        assert_eq!(DbError::OutOfRange("x").kind(), Kind::Bug);

        let rpc = io(std::io::ErrorKind::ConnectionReset).to_rpc();
        assert_eq!(rpc.framework_code(), Some(FrameworkCode::Unavailable));
        assert_eq!(rpc.data.as_ref().and_then(|d| d.get("retryAfterMs")).and_then(|v| v.as_u64()), Some(1000));
        let rpc = DbError::OutOfRange("orders.id").to_rpc();
        assert_eq!(rpc, RpcError::internal(), "no detail leaks");
    }
}
