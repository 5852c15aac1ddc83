//! Accord's load benchmark: one procedure (`bench.echo`) served three ways, and the pieces the
//! `bench-server` and `load` binaries share.
//!
//! - [`api`]: the `bench.echo` procedure, defined with Accord (input validated with garde).
//! - [`stack`]: serving it as plain jsonrpsee (`raw`), as Accord with its defaults (`default`),
//!   or as Accord with every middleware switched on (`full`).
//! - [`client`]: a lean HTTP/1.1 keep-alive client (hyper's connection API, one TCP connection
//!   per worker, no pool) and a WebSocket client (tokio-tungstenite), used by the load
//!   generator and the smoke test alike.
//! - [`process`]: bench servers as child processes, and what the kernel says of their CPU
//!   time and memory (used by `load` and `abuse`).
//!
//! See `BENCHMARKS.md` at the repository root for what is measured and how to run it.

pub mod api;
pub mod client;
pub mod process;
pub mod stack;

/// The median of interleaved rounds (the in-process benchmarks report it); the upper middle
/// value for an even count. Panics on an empty list: a benchmark always runs one round.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
