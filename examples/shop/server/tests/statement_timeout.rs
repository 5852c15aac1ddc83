//! `DB_STATEMENT_TIMEOUT_MS` bounds a statement stuck on PostgreSQL, directly and through a
//! transaction-pooling PgBouncer (where it is `SET LOCAL` in every transaction's opening
//! statement, since PgBouncer drops startup parameters): a checkout waiting on a row another
//! session holds answers `TIMEOUT` after about the timeout, commits nothing, and the same
//! checkout goes through once the row is free. Skips without a PostgreSQL `DATABASE_URL`; the
//! PgBouncer pass of scripts/test-all runs it through PgBouncer (`DB_PGBOUNCER=1`).

mod support;

use std::time::{Duration, Instant};

use accord::{Cx, FrameworkCode, ProcedureError};
use shop_api::{CartLine, Checkout, Orders, OrdersClient};
use sqlx::Connection;
use support::{Backend, SMALL, http_as, login, start};

const TIMEOUT: Duration = Duration::from_millis(400);

fn cart(key: &str) -> Checkout {
    Checkout { idempotency_key: key.into(), lines: vec![CartLine { product_id: 41, quantity: 1 }] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_statement_timeout_ends_a_checkout_stuck_on_a_lock_postgres() {
    let Some(test) = start(Backend::Postgres, Some(SMALL), |config| config.pool.statement_timeout = TIMEOUT).await
    else {
        return;
    };
    let url = test.url();
    let orders = OrdersClient::new(http_as(&url, &login(&url, "bob@example.com").await));

    // Another session holds product 41's row (PostgreSQL itself, never the pooler).
    let direct = support::direct_url().expect("a PostgreSQL URL");
    let mut holder = sqlx::PgConnection::connect(&direct).await.expect("a direct connection");
    let schema = test.config.database_schema.clone().expect("a schema");
    let search_path = format!("SET search_path TO \"{schema}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(search_path)).execute(&mut holder).await.expect("the test's schema");
    let lock = "BEGIN; SELECT stock FROM products WHERE id = 41 FOR UPDATE";
    sqlx::raw_sql(lock).execute(&mut holder).await.expect("lock the row");

    let started = Instant::now();
    let refused = orders.checkout(&Cx::new(), cart("stuck-key")).await.expect_err("the checkout waits on the lock");
    let waited = started.elapsed();
    let code = refused.as_rpc_error().and_then(accord::RpcError::framework_code);
    assert_eq!(code, Some(FrameworkCode::Timeout), "{refused:?}");
    assert!(waited >= TIMEOUT, "answered after {waited:?}, before the statement timeout");
    assert!(waited < TIMEOUT + Duration::from_secs(5), "answered only after {waited:?}");

    sqlx::raw_sql("ROLLBACK").execute(&mut holder).await.expect("release the row");
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'stuck-key'")
        .fetch_one(&mut holder)
        .await
        .expect("count keys");
    assert_eq!(keys, 0, "the timed-out checkout committed nothing");
    let placed = orders.checkout(&Cx::new(), cart("stuck-key")).await.expect("the checkout, row free");
    assert_eq!(orders.checkout(&Cx::new(), cart("stuck-key")).await.expect("replayed").id, placed.id);
    test.finish().await;
}
