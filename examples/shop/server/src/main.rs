//! `shop`: serves the shop API and its web page on `127.0.0.1:$PORT` (default 3000).
//!
//! ```text
//! shop                 # migrate, seed an empty database, serve (SIGINT/SIGTERM drains)
//! shop seed [--users N] [--products N] [--orders N]   # fill an empty database, then exit
//! ```
//!
//! Configuration comes from the environment (`DATABASE_URL`, `PORT`, ...): see `src/config.rs`
//! or `examples/shop/README.md`. Logs go to stdout, filtered by `RUST_LOG` (default `info`);
//! traces go to an OpenTelemetry collector when `OTEL_EXPORTER_OTLP_ENDPOINT` names one.
//!
//! Exit status: 0 stopped after every call finished (or seeded); 1 could not start (database,
//! port, ...) or seeding failed; 2 invalid configuration; 3 stopped with calls abandoned after
//! the grace period (`SHOP_SHUTDOWN_GRACE_MS`, default 10 s). On SIGTERM the process exits
//! within the grace period plus about a second, whatever its calls are stuck on.

use std::process::ExitCode;
use std::time::Duration;

use accord_server::LogFormat;
use clap::{Parser, Subcommand};
use shop::app::Stopped;
use shop::seed::SeedSize;
use shop::{Config, Shop};

#[derive(Parser)]
#[command(version, about = "The Accord shop example: API, web page and database")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve (the default).
    Serve,
    /// Fill an empty database with demo data, then exit.
    Seed {
        #[arg(long, default_value_t = SeedSize::default().users)]
        users: u32,
        #[arg(long, default_value_t = SeedSize::default().products)]
        products: u32,
        #[arg(long, default_value_t = SeedSize::default().orders)]
        orders: u32,
    },
}

/// Stopped with calls abandoned after the grace period.
const EXIT_ABANDONED: u8 = 3;

fn main() -> ExitCode {
    return_large_allocations_to_the_system();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("shop: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = runtime.block_on(run());
    // The status is decided: do not wait for tasks left behind (abandoned calls, a blocking
    // read), which dropping the runtime would.
    runtime.shutdown_timeout(Duration::from_millis(100));
    status
}

async fn run() -> ExitCode {
    // Logs to stdout; traces to OTEL_EXPORTER_OTLP_ENDPOINT when it is set (flushed on exit).
    let _telemetry = match accord_server::telemetry::init(LogFormat::from_env()) {
        Ok(telemetry) => telemetry,
        Err(e) => {
            eprintln!("shop: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("shop: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Seed { users, products, orders } => seed(&config, SeedSize { users, products, orders }).await,
    }
}

/// Makes glibc serve allocations of 4 MiB and more (a password hash's 19 MiB of Argon2 memory)
/// with their own mappings, unmapped when freed. By default glibc raises that threshold after
/// the first such free, and from then on serves them from per-thread arenas that keep freed
/// memory: after a login burst the process stayed at its peak. See `passwords.rs`.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator settings; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

async fn serve(config: &Config) -> ExitCode {
    let shop = match Shop::start(config, Some(SeedSize::default())).await {
        Ok(shop) => shop,
        Err(e) => {
            eprintln!("shop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (url, addr, backend) = (shop.server.http_url(), shop.server.local_addr(), shop.db.backend());
    // Listen for SIGTERM before saying we are up: a signal sent on "listening" then drains.
    let serving = shop.run_until_signal();
    println!("shop listening on {url} ({backend} database); open http://{addr}/");
    println!("demo sign-in: ada@example.com (admin) or bob@example.com, password {}", shop::seed::DEMO_PASSWORD);
    match serving.await {
        Stopped::Drained => {
            println!("shop stopped");
            ExitCode::SUCCESS
        }
        Stopped::Abandoned => {
            eprintln!("shop: stopped; calls still running after the grace period were abandoned");
            ExitCode::from(EXIT_ABANDONED)
        }
    }
}

async fn seed(config: &Config, size: SeedSize) -> ExitCode {
    let metrics = accord_server::Metrics::new();
    let result = async {
        let db = shop::db::Database::connect(config, &metrics).await?;
        if !shop::seed::is_empty(&db).await? {
            println!("the database has data already; nothing seeded");
            return Ok(());
        }
        shop::seed::seed(&db, size).await?;
        db.close().await;
        println!("seeded {} users, {} products, {} orders", size.users, size.products, size.orders);
        Ok::<(), shop::db::DbError>(())
    };
    match result.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop: {e}");
            ExitCode::FAILURE
        }
    }
}
