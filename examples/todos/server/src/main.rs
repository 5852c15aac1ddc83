//! Serves the todos API on `127.0.0.1:$PORT` (default 3000) at `/rpc`, over HTTP and WebSocket.

use std::process::ExitCode;

use todos_api::TodosApi;
use todos_server::TodoList;

/// The port when `PORT` is unset.
const DEFAULT_PORT: u16 = 3000;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let port = match std::env::var("PORT") {
        Ok(port) => match port.parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("PORT must be a port number, got {port:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) => DEFAULT_PORT,
    };
    let server = match accord_server::Server::builder().mount(TodosApi::handlers(TodoList::new())) {
        Ok(builder) => builder.serve(("127.0.0.1", port)).await,
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
    // Graceful shutdown on SIGTERM and draining arrive with the production middleware; for now
    // Ctrl-C stops the server.
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("todos-server: cannot listen for Ctrl-C: {e}");
    }
    server.stop();
    server.stopped().await;
    ExitCode::SUCCESS
}
