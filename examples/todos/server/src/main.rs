//! Serves the todos API on `127.0.0.1:$PORT` (default 3000) at `/rpc`, over HTTP and WebSocket,
//! with `/healthz`, `/readyz` and `/metrics` beside it, and the web app at `/`: the directory
//! `$TODOS_WEB_DIR`, else `examples/todos/web/dist` when it was built (`npm run build -w todos-web`).
//! SIGINT or SIGTERM drains and exits 0.
//! `CORS_ORIGINS` (comma-separated) lets pages on those origins call it from a browser.
//!
//! Logs go to stdout, filtered by `RUST_LOG` (default `info`); `ACCORD_LOG_FORMAT=json` switches
//! to JSON lines.
//!
//! Live changes (`todos.changes`) go through Redis Streams when `REDIS_URL` is set, so that
//! instances side by side (each on its own `PORT`) share them and a subscriber resumes on any of
//! them; otherwise they stay in this process. Retention: `TODOS_EVENTS_MAX_AGE_MS` (default
//! 300000) and `TODOS_EVENTS_MAX` (default 10000).

use std::process::ExitCode;

use accord_server::topics::{Retention, Topics};
use accord_server::{Cors, LogFormat, Server, init_logging};
use todos_api::TodosApi;
use todos_server::TodoList;

/// The port when `PORT` is unset.
const DEFAULT_PORT: u16 = 3000;

/// Where `npm run build -w todos-web` puts the web app.
const BUILT_WEB_APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/dist");

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
    let web = std::env::var_os("TODOS_WEB_DIR")
        .filter(|dir| !dir.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::path::PathBuf::from(BUILT_WEB_APP)).filter(|dir| dir.join("index.html").is_file()));
    let topics = match topics() {
        Ok(topics) => topics,
        Err(message) => {
            eprintln!("todos-server: {message}");
            return ExitCode::from(2);
        }
    };
    let list = match TodoList::with_topics(&topics) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("todos-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Server::builder().mount(TodosApi::handlers(list)) {
        Ok(mut builder) => {
            if let Some(dir) = &web {
                builder = builder.static_dir(dir);
            }
            if let Some(cors) = cors {
                builder = builder.cors(cors);
            }
            builder.serve(("127.0.0.1", port)).await
        }
        Err(e) => Err(e),
    };
    let server = match server {
        Ok(server) => server,
        Err(e) => {
            eprintln!("todos-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = server.http_url();
    // Listen for SIGTERM before saying we are up: a signal sent on "listening" then drains.
    let serving = server.run_until_signal();
    println!("todos-server listening on {url}");
    let backend = if topics.is_redis() { "Redis (REDIS_URL)" } else { "this process" };
    println!("todos-server shares live changes through {backend}");
    if let Some(dir) = &web {
        println!("todos-server serves the web app from {}", dir.display());
    }
    if serving.await {
        println!("todos-server stopped");
        ExitCode::SUCCESS
    } else {
        eprintln!("todos-server: calls were still running after the grace period");
        ExitCode::FAILURE
    }
}

/// The topics backend and retention from the environment.
fn topics() -> Result<Topics, String> {
    let number = |name: &str, default: u64| -> Result<u64, String> {
        match std::env::var(name) {
            Ok(value) => value.parse().map_err(|_| format!("{name} must be a whole number, got {value:?}")),
            Err(_) => Ok(default),
        }
    };
    let max_age = std::time::Duration::from_millis(number("TODOS_EVENTS_MAX_AGE_MS", 300_000)?);
    let max_events = usize::try_from(number("TODOS_EVENTS_MAX", 10_000)?).map_err(|e| e.to_string())?;
    let topics = match std::env::var("REDIS_URL").ok().filter(|url| !url.is_empty()) {
        Some(url) => Topics::redis(&url).map_err(|e| e.to_string())?,
        None => Topics::in_process(),
    };
    Ok(topics.with_retention(Retention { max_events: max_events.max(1), max_age }))
}
