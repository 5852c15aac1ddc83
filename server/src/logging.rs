//! Log output for servers: human-readable text or JSON lines, filtered by `RUST_LOG`.
//!
//! Access-log events use the `accord::access` target, so `RUST_LOG=info,accord::access=off`
//! silences them and `RUST_LOG=warn,accord::access=info` keeps only them.

use tracing_subscriber::EnvFilter;

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

/// Installs a global subscriber writing to stdout, filtered by `RUST_LOG` (default `info`).
/// Does nothing if a subscriber is already installed.
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
    };
}
