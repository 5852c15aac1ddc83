//! The soak scenario: one full-stack server takes `--soak-calls` calls (default 10 million),
//! in turns of single HTTP calls, batches and WebSocket calls, and its resident memory is
//! sampled after each turn. Memory is flat when the last samples are no higher than the highest
//! taken while each workload ran for the first time (allocator arenas and connection buffers in
//! place).

use std::time::Duration;

use crate::run::{self, Shape, Workload};
use accord_bench::process::ServerProcess;

/// One sample: calls answered so far, resident memory then.
pub struct Sample {
    pub calls: u64,
    pub rss_kib: u64,
}

/// What the soak measured.
pub struct Soak {
    pub samples: Vec<Sample>,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// Drives `server` through `workloads` in turns of `turn` each until `total` calls are answered.
pub async fn run(
    server: &ServerProcess,
    workloads: &[&Workload],
    connections: usize,
    total: u64,
    turn: Duration,
) -> Soak {
    let shape = Shape { connections, warmup: Duration::ZERO, duration: turn };
    let mut soak = Soak { samples: Vec::new(), errors: 0, first_error: None };
    let mut calls = 0;
    'turns: loop {
        for workload in workloads {
            let measured = run::measure(server, workload, shape).await;
            calls += measured.calls;
            soak.errors += measured.errors;
            if soak.first_error.is_none() {
                soak.first_error = measured.first_error;
            }
            let rss_kib = server.rss_kib().unwrap_or(0);
            eprintln!("load: soak {calls} calls, RSS {} KiB", rss_kib);
            soak.samples.push(Sample { calls, rss_kib });
            if calls >= total {
                break 'turns;
            }
        }
    }
    soak
}

/// The report's table: memory after every tenth of the calls, and the verdict. `turns` is the
/// number of workloads: once each has run, the server has warmed up.
pub fn table(soak: &Soak, total: u64, turns: usize) -> String {
    let mut out = String::from("| calls answered | server RSS MiB |\n|---:|---:|\n");
    let mut next = 0;
    for sample in &soak.samples {
        if sample.calls >= next {
            out += &format!("| {} | {:.1} |\n", sample.calls, sample.rss_kib as f64 / 1024.0);
            next = sample.calls + total / 10;
        }
    }
    // Warmed up: the highest sample once every workload has run once.
    let warm = soak.samples.iter().take(turns).map(|s| s.rss_kib).max().unwrap_or(0);
    let tail = soak.samples.iter().rev().take(3).map(|s| s.rss_kib).max().unwrap_or(0);
    let peak = soak.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    out += &format!(
        "\nWarmed up (each workload run once): {:.1} MiB; last three samples at most {:.1} MiB; peak {:.1} MiB. \
         Growth after warm-up: {:+.1} MiB. Errors: {}.\n",
        warm as f64 / 1024.0,
        tail as f64 / 1024.0,
        peak as f64 / 1024.0,
        (tail as f64 - warm as f64) / 1024.0,
        soak.errors,
    );
    if let Some(error) = &soak.first_error {
        out += &format!("First error: {error}\n");
    }
    out
}
