//! Loads the shop over 127.0.0.1 and prints a markdown report: throughput and latency of its
//! main procedures, and what an N+1 order loader would cost against the real one.
//!
//! ```sh
//! cargo run --release -p shop-bench -- --duration-secs 5 --connections 16
//! DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run --release -p shop-bench   # on PostgreSQL
//! cargo build --release -p shop && cargo run --release -p shop-bench -- login-burst   # memory under a login burst
//! ```
//!
//! The shop runs in this process on a runtime of its own (2 worker threads), on a fresh
//! database seeded with the default demo data (a temporary SQLite file, or a fresh schema in
//! PostgreSQL that is dropped at the end); the load runs on a second runtime. Every loop is
//! bounded in time, and only 127.0.0.1 is contacted. Not run by CI: see `BENCHMARKS.md`.
//!
//! `login-burst` runs the `shop` binary in a process of its own instead, so that its memory can
//! be read alone (see `burst.rs`).

mod burst;
mod naive;
mod scenarios;

use std::time::Duration;

use clap::{Parser, Subcommand};
use shop::seed::SeedSize;
use shop::{Config, Shop};

#[derive(Parser, Clone, Debug)]
#[command(about = "Load benchmark of the shop example")]
pub struct Args {
    /// Measured seconds per scenario (after a 1 s warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub duration_secs: f64,
    /// Concurrent closed-loop clients, each with its own connection.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// PostgreSQL to run on (a fresh schema); SQLite in a temporary directory when unset.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Scenario>,
}

/// Another benchmark than the default load.
#[derive(Subcommand, Clone, Debug)]
pub enum Scenario {
    /// Concurrent `auth.login` calls against the `shop` binary: its memory before, at the peak
    /// of and after each burst.
    LoginBurst(burst::BurstArgs),
}

fn main() {
    let args = Args::parse();
    if let Some(Scenario::LoginBurst(burst)) = &args.command {
        burst::run(burst, args.database_url.as_deref());
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schema = format!("shop_bench_{}", std::process::id());
    let mut config = Config { port: 0, fulfilment_step: Duration::from_secs(24 * 3600), ..Config::default() };
    config.web_dir = "/nonexistent".into();
    config.login_rate_per_minute = 1_000;
    match &args.database_url {
        Some(url) if url.starts_with("postgres") => {
            config.database_url = url.clone();
            config.database_schema = Some(schema.clone());
        }
        _ => config.database_url = format!("sqlite://{}", dir.path().join("shop.db").display()),
    }

    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("shop-server")
        .enable_all()
        .build()
        .expect("the server's runtime");
    let shop = server_runtime.block_on(Shop::start(&config, Some(SeedSize::default()))).expect("the shop starts");
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("shop-load")
        .enable_all()
        .build()
        .expect("the load's runtime");

    let backend = shop.db.backend();
    eprintln!(
        "shop on {} ({backend}); {} connections, {} s per scenario",
        shop.server.http_url(),
        args.connections,
        args.duration_secs
    );
    let rows = client_runtime.block_on(scenarios::run(&args, &shop.server.http_url()));
    let n_plus_one = server_runtime.block_on(naive::compare(&shop));

    println!("### Shop on {backend}: {} connections, {} s per scenario\n", args.connections, args.duration_secs);
    println!("| procedure | calls/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|");
    for row in rows {
        println!("| {} | {:.0} | {:.2} | {:.2} | {} |", row.name, row.per_second, row.p50_ms, row.p99_ms, row.errors);
    }
    println!("\n{n_plus_one}");
    server_runtime.block_on(async {
        shop.shutdown().await;
        if config.database_schema.is_some() {
            drop_schema(&config.database_url, &schema).await;
        }
    });
}

pub(crate) async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection;
    match sqlx::PgConnection::connect(url).await {
        Ok(mut conn) => {
            let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await {
                eprintln!("could not drop the schema {schema}: {e}");
            }
        }
        Err(e) => eprintln!("could not drop the schema {schema}: {e}"),
    }
}
