//! Serves the todos API on `127.0.0.1:$PORT` (default 3000) at `/rpc`, over HTTP and WebSocket,
//! with `/healthz`, `/readyz` and `/metrics` beside it. SIGINT or SIGTERM drains and exits 0.
//! `CORS_ORIGINS` (comma-separated) lets pages on those origins call it from a browser.
//!
//! Logs go to stdout, filtered by `RUST_LOG` (default `info`); `ACCORD_LOG_FORMAT=json` switches
//! to JSON lines.

use std::process::ExitCode;

use accord_server::{Cors, LogFormat, Server, init_logging};
use todos_api::TodosApi;
use todos_server::TodoList;

/// The port when `PORT` is unset.
const DEFAULT_PORT: u16 = 3000;

#[tokio::main]
async fn main() -> ExitCode {
    init_logging(LogFormat::from_env());
    let port = match std::env::var("PORT") {
        Ok(port) => match port.parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("todos-server: PORT must be a port number, got {port:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) => DEFAULT_PORT,
    };
    let cors = match std::env::var("CORS_ORIGINS") {
        Ok(origins) if !origins.trim().is_empty() => match origins.parse::<Cors>() {
            Ok(cors) => Some(cors),
            Err(e) => {
                eprintln!("todos-server: CORS_ORIGINS: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let server = match Server::builder().mount(TodosApi::handlers(TodoList::new())) {
        Ok(builder) => match cors {
            Some(cors) => builder.cors(cors).serve(("127.0.0.1", port)).await,
            None => builder.serve(("127.0.0.1", port)).await,
        },
        Err(e) => Err(e),
    };
    let server = match server {
        Ok(server) => server,
        Err(e) => {
            eprintln!("todos-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("todos-server listening on {}", server.http_url());
    if server.run_until_signal().await {
        println!("todos-server stopped");
        ExitCode::SUCCESS
    } else {
        eprintln!("todos-server: calls were still running after the grace period");
        ExitCode::FAILURE
    }
}
