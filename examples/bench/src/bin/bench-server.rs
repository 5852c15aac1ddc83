//! Serves `bench.echo` on `127.0.0.1:$PORT` (default 3000) at `/rpc`, HTTP and WebSocket.
//!
//! ```sh
//! cargo run --release -p accord-bench --bin bench-server                    # Accord, defaults
//! BENCH_STACK=raw cargo run --release -p accord-bench --bin bench-server    # plain jsonrpsee
//! BENCH_STACK=full cargo run --release -p accord-bench --bin bench-server   # everything on
//! ```
//!
//! - `BENCH_STACK`: `raw`, `default` (the default) or `full`; see `accord_bench::stack`.
//! - `BENCH_FULL_WITHOUT`: parts of `full` to switch off (`auth,ratelimit,log,tracing,spans`).
//! - `PORT`: the port; `0` picks a free one. The line `listening on http://127.0.0.1:PORT/rpc`
//!   on stdout says it is ready (and which port it got).
//! - `TOKIO_WORKER_THREADS`: the runtime's worker threads (tokio's default: one per core).
//!
//! SIGINT or SIGTERM drains and exits 0.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use accord_bench::stack::{self, Stack, Without};

/// The port when `PORT` is unset.
const DEFAULT_PORT: u16 = 3000;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("bench-server: {message}");
            return ExitCode::from(2);
        }
    };
    if config.stack == Stack::Full {
        stack::install_tracing(config.without);
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
    let server = match stack::serve(config.stack, config.without, addr).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("bench-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let url = server.http_url();
    let serving = server.run_until_signal();
    println!("listening on {url}");
    match config.stack {
        Stack::Full => eprintln!("bench-server: stack full, switched off: {:?}", config.without),
        stack => eprintln!("bench-server: stack {stack}"),
    }
    if serving.await {
        ExitCode::SUCCESS
    } else {
        eprintln!("bench-server: calls were still running after the grace period");
        ExitCode::FAILURE
    }
}

/// What the environment asks for.
struct Config {
    stack: Stack,
    without: Without,
    port: u16,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let stack = match std::env::var("BENCH_STACK") {
            Ok(value) => value.parse()?,
            Err(_) => Stack::Default,
        };
        let without = match std::env::var("BENCH_FULL_WITHOUT") {
            Ok(value) => value.parse()?,
            Err(_) => Without::default(),
        };
        let port = match std::env::var("PORT") {
            Ok(port) => port.parse::<u16>().map_err(|_| format!("PORT must be a port number, got {port:?}"))?,
            Err(_) => DEFAULT_PORT,
        };
        Ok(Self { stack, without, port })
    }
}
