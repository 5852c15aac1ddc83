//! The load generator's command line: how long, how wide, and which scenarios.

use clap::Parser;

/// Load-tests raw jsonrpsee against Accord's default and full stacks on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(name = "load")]
pub struct Args {
    /// Measured seconds per variant and scenario, split evenly over the rounds.
    #[arg(long, default_value_t = 10.0)]
    pub duration_secs: f64,
    /// Warm-up seconds before each measured round (not recorded).
    #[arg(long, default_value_t = 1.0)]
    pub warmup_secs: f64,
    /// Interleaved rounds per scenario (req/s is the median over them).
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Concurrent keep-alive connections (HTTP) or sockets (WebSocket), one worker each.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Worker threads of the load generator's tokio runtime (1: a current-thread runtime).
    #[arg(long, default_value_t = 1)]
    pub client_threads: usize,
    /// Characters in each call's `message`.
    #[arg(long, default_value_t = 100)]
    pub message_len: usize,
    /// Calls in one batch.
    #[arg(long, default_value_t = 100)]
    pub batch_size: usize,
    /// Cold starts per stack (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub cold_runs: usize,
    /// What to run, in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "cold,http,batch,ws")]
    pub scenarios: Vec<Scenario>,
    /// Calls the `soak` scenario makes (memory over many calls).
    #[arg(long, default_value_t = 10_000_000)]
    pub soak_calls: u64,
    /// Adds the `breakdown` scenario.
    #[arg(long)]
    pub breakdown: bool,
    /// Use the existing bench-server binary as is (by default `cargo build` refreshes it).
    #[arg(long)]
    pub no_build: bool,
}

/// One part of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Exec of bench-server until the first answer, per stack.
    Cold,
    /// HTTP single calls: (a) raw, (b) default, (c) full.
    Http,
    /// Batches against single calls (HTTP).
    Batch,
    /// WebSocket calls: raw and default.
    Ws,
    /// Default, full, and full with one part off at a time (HTTP single calls).
    Breakdown,
    /// The full stack's memory over `--soak-calls` calls (HTTP, batches, WebSocket in turns).
    Soak,
}

/// The breakdown's variants: label and `BENCH_FULL_WITHOUT`.
pub const BREAKDOWN: &[(&str, &str)] = &[
    ("full without auth", "auth"),
    ("full without rate limits", "ratelimit"),
    ("full without access log", "log"),
    ("full without per-call span", "spans"),
    ("full without tracing subscriber", "tracing"),
    ("full without all of these", "auth,ratelimit,log,tracing"),
];
