//! Log output for servers: human-readable text or JSON lines, filtered by `RUST_LOG`.
//!
//! Access-log events use the `accord::access` target, so `RUST_LOG=info,accord::access=off`
//! silences them and `RUST_LOG=warn,accord::access=info` keeps only them.
//!
//! **Secrets stay out of logs at every level.** Accord itself never logs params, results,
//! headers or URLs. Some dependencies do at `trace` (WebSocket frames with their payloads,
//! JSON-RPC client bodies, HTTP internals), so [`log_filter`] caps their targets at `debug`
//! whatever `RUST_LOG` says: `RUST_LOG=trace` shows Accord's and the app's traces, not
//! passwords, tokens or `?access_token=` URLs.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

/// Dependency targets that log message bodies, headers or URLs below `debug`.
const BODY_LOGGING_TARGETS: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "jsonrpsee",
    "jsonrpsee_core",
    "jsonrpsee_server",
    "jsonrpsee_http_client",
    "jsonrpsee_client_transport",
    "tower_http",
];

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl LogFormat {
    /// `ACCORD_LOG_FORMAT=json` selects JSON; anything else, text.
    pub fn from_env() -> Self {
        match std::env::var("ACCORD_LOG_FORMAT") {
            Ok(format) if format.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// The filter [`init_logging`] installs: `directives` (e.g. the value of `RUST_LOG`; `info`
/// when `None` or invalid), with the body-logging dependencies capped at `debug`. For apps that
/// build their own subscriber (to add an exporter, say) and want the same guarantee.
pub fn log_filter(directives: Option<&str>) -> EnvFilter {
    let mut filter = directives.and_then(|d| EnvFilter::try_new(d).ok()).unwrap_or_else(|| EnvFilter::new("info"));
    for target in BODY_LOGGING_TARGETS {
        if let Ok(cap) = format!("{target}=debug").parse::<Directive>() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

/// Installs a global subscriber writing to stdout, filtered by `RUST_LOG` (default `info`)
/// through [`log_filter`]. Does nothing if a subscriber is already installed.
pub fn init_logging(format: LogFormat) {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}
