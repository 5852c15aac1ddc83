//! The todos API mounted inside an axum app: the app's own page at `/`, the API at `/rpc`
//! (HTTP and WebSocket), health and metrics beside them, all on one port (`$PORT`, default 3000).
//! SIGINT or SIGTERM stops axum and drains Accord.

use std::net::SocketAddr;
use std::process::ExitCode;

use accord_server::{LogFormat, Server, init_logging};
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use todos_api::TodosApi;
use todos_server::TodoList;

#[tokio::main]
async fn main() -> ExitCode {
    init_logging(LogFormat::from_env());
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todos-axum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().map(|p| p.parse()).transpose()?.unwrap_or(3000);
    let accord = Server::builder().mount(TodosApi::handlers(TodoList::new()))?.build().await?;
    let app = Router::new()
        .route("/", get(|| async { Html("<h1>The app's own page</h1><p>The API is at <code>/rpc</code>.</p>") }))
        .nest_service("/rpc", accord.rpc_service())
        .route_service("/healthz", accord.service())
        .route_service("/readyz", accord.service())
        .route_service("/metrics", accord.service());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("todos-axum listening on http://{}/rpc", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(accord.shutdown_signal())
        .await?;
    let drained = accord.shutdown().await;
    println!("todos-axum stopped{}", if drained { "" } else { " (calls were abandoned)" });
    Ok(())
}
