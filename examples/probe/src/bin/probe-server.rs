//! Serves the probe on `127.0.0.1:$PORT` (default 3300; `0` picks a free port) and prints
//! `probe-server listening on <url>`. SIGINT or SIGTERM stops it.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())).init();
    let port = std::env::var("PORT").unwrap_or_else(|_| "3300".into());
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("probe-server: PORT must be a port number, got {port:?}");
        return ExitCode::from(2);
    };
    match accord_probe::serve(&format!("127.0.0.1:{port}")).await {
        Ok(server) => {
            let url = server.http_url();
            let serving = server.run_until_signal();
            println!("probe-server listening on {url}");
            serving.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("probe-server: {e}");
            ExitCode::FAILURE
        }
    }
}
